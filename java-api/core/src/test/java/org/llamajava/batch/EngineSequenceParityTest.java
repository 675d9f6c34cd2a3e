package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.GeneratedToken;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;

/**
 * A request gives the same result through a {@link Sequence} and through the batching engine:
 * both run one token loop, so text, tokens, finish reasons, streamed text and tokens with their
 * log-probabilities agree, for each way a generation ends.
 */
class EngineSequenceParityTest {
    @TempDir
    Path tmp;

    private Path model() {
        Path shared = Path.of(System.getProperty("llama.models.dir", "../shared/models"), "stories260K.gguf");
        return Files.isRegularFile(shared) ? shared : TestSupport.writeTinyModel(tmp);
    }

    private record Run(Completion completion, List<String> pieces, List<GeneratedToken> tokens) {}

    private static GenerateOptions.Builder options(List<String> pieces, List<GeneratedToken> tokens) {
        return GenerateOptions.builder().onText(pieces::add).onToken(tokens::add);
    }

    @Test
    void everyEndingAgreesWithASequence() throws Exception {
        try (Model model = Model.load(model())) {
            int[] prompt = model.vocabulary().tokenize("Once upon a time", true, true);
            String text;
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(2).build());
                 Sampler sampler = Sampler.greedy()) {
                text = ctx.newSequence().generate(prompt, sampler, GenerateOptions.maxTokens(48)).text();
            }
            assertTrue(text.length() > 12, "the model writes text: " + text);
            // a stop string that the greedy text reaches, taken from its middle
            String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
            List<java.util.function.UnaryOperator<GenerateOptions.Builder>> cases = List.of(
                    b -> b.maxTokens(24),
                    b -> b.maxTokens(48).stop(List.of(stop)),
                    b -> b.maxTokens(20).logprobs(3),
                    b -> b.maxTokens(0),
                    b -> b.maxTokens(160));
            try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(1024)
                    .threads(2).build())) {
                for (int i = 0; i < cases.size(); i++) {
                    Run alone;
                    try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).threads(2).build());
                         Sampler sampler = Sampler.greedy()) {
                        List<String> pieces = new ArrayList<>();
                        List<GeneratedToken> tokens = new ArrayList<>();
                        Completion c = ctx.newSequence().generate(prompt, sampler,
                                cases.get(i).apply(options(pieces, tokens)).build());
                        alone = new Run(c, pieces, tokens);
                    }
                    List<String> pieces = new ArrayList<>();
                    List<GeneratedToken> tokens = new ArrayList<>();
                    Completion c = engine.submit(new BatchRequest(prompt, Sampler.builder().greedy(),
                            cases.get(i).apply(options(pieces, tokens)).build())).completion().get(60, TimeUnit.SECONDS);
                    Run batched = new Run(c, pieces, tokens);
                    String what = "case " + i;
                    assertEquals(alone.completion().finishReason(), batched.completion().finishReason(), what);
                    assertEquals(alone.completion().text(), batched.completion().text(), what);
                    assertArrayEquals(alone.completion().tokens(), batched.completion().tokens(), what);
                    assertEquals(alone.pieces(), batched.pieces(), what);
                    assertEquals(String.join("", alone.pieces()), alone.completion().text(), what);
                    assertEquals(alone.tokens().size(), batched.tokens().size(), what);
                    for (int t = 0; t < alone.tokens().size(); t++) {
                        GeneratedToken a = alone.tokens().get(t);
                        GeneratedToken b = batched.tokens().get(t);
                        assertEquals(a.token(), b.token(), what);
                        assertEquals(a.alternatives().size(), b.alternatives().size(), what);
                        if (!Float.isNaN(a.logprob())) {
                            assertEquals(a.logprob(), b.logprob(), 1e-3, what);
                            for (int k = 0; k < a.alternatives().size(); k++) {
                                assertEquals(a.alternatives().get(k).token(), b.alternatives().get(k).token(), what);
                            }
                        } else {
                            assertTrue(Float.isNaN(b.logprob()), what);
                        }
                    }
                }
                // the cases cover the ways a plain generation ends
                assertEquals(FinishReason.STOP_STRING, runOnce(engine, prompt, cases.get(1)));
                assertEquals(FinishReason.MAX_TOKENS, runOnce(engine, prompt, cases.get(0)));
            }
        }
    }

    private static FinishReason runOnce(BatchEngine engine, int[] prompt,
                                        java.util.function.UnaryOperator<GenerateOptions.Builder> c) throws Exception {
        return engine.submit(new BatchRequest(prompt, Sampler.builder().greedy(), c.apply(GenerateOptions.builder()).build()))
                .completion().get(60, TimeUnit.SECONDS).finishReason();
    }
}
