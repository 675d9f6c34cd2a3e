package org.llamajava.langchain4j;

import dev.langchain4j.data.message.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.chat.ChatTemplate;

/**
 * A LangChain4j {@link dev.langchain4j.model.TokenCountEstimator} that counts exactly, with the
 * model's own tokenizer: texts as they are tokenized, messages as the chat template renders them
 * (role markers and special tokens included).
 */
public final class LlamaTokenCountEstimator implements dev.langchain4j.model.TokenCountEstimator {
    private final Model model;
    private final ChatTemplate template;

    /** Counts with {@code model}'s tokenizer and its own chat template. */
    public LlamaTokenCountEstimator(Model model) {
        this(model, ChatTemplate.of(model));
    }

    /** Counts with {@code model}'s tokenizer and the given chat template. */
    public LlamaTokenCountEstimator(Model model, ChatTemplate template) {
        if (model == null || template == null) {
            throw new IllegalArgumentException("model and template are required");
        }
        this.model = model;
        this.template = template;
    }

    @Override
    public int estimateTokenCountInText(String text) {
        return model.vocabulary().tokenize(text, false, false).length;
    }

    @Override
    public int estimateTokenCountInMessage(ChatMessage message) {
        return estimateTokenCountInMessages(List.of(message));
    }

    @Override
    public int estimateTokenCountInMessages(Iterable<ChatMessage> messages) {
        List<org.llamajava.chat.ChatMessage> converted = new ArrayList<>();
        for (ChatMessage m : messages) {
            converted.add(ChatEngine.convert(m));
        }
        return model.vocabulary().tokenize(template.render(converted, false), false, true).length;
    }
}
