package org.llamajava.samples;

import java.nio.file.Path;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatTemplate;

/**
 * The two-turn chat of docs/guide.md: the second turn evaluates only its new tokens.
 *
 * <p>{@code java -cp samples/target/llama-java.jar org.llamajava.samples.TwoTurnChat [MODEL]}
 */
public final class TwoTurnChat {
    private TwoTurnChat() {}

    public static void main(String[] args) {
        Path path = Path.of(args.length > 0 ? args[0] : "../shared/models/stories260K.gguf");
        try (Model model = Model.load(path);
             Context ctx = model.createContext(ContextParams.builder().contextSize(2048).build());
             Sampler sampler = Sampler.builder().topK(40).topP(0.95f).temperature(0.8f).dist(42).build()) {
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"), "You tell stories.");
            Completion first = chat.send("Once upon a time", sampler, GenerateOptions.maxTokens(64));
            System.out.println(first.text());
            Completion second = chat.send("What happened next?", sampler,
                    GenerateOptions.builder().maxTokens(64).onText(System.out::print).build());
            System.out.printf("%n%d tokens reused, %d evaluated%n", second.cachedTokens(), second.promptTokens());
        }
    }
}
