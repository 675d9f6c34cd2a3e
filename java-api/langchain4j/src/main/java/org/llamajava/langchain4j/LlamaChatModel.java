package org.llamajava.langchain4j;

import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import java.util.List;
import java.util.Set;
import org.llamajava.Model;

/**
 * A LangChain4j {@link ChatModel} that runs a GGUF model in this process through llama-java:
 * messages of every role, tools ({@code ToolSpecification}s, tool execution requests and results,
 * {@code tool_choice}), {@code ResponseFormat} JSON and JSON Schema (enforced by a grammar),
 * temperature, top-p, top-k, max tokens and stop sequences, finish reason and token usage.
 *
 * <pre>{@code
 * try (LlamaChatModel model = LlamaChatModel.builder().modelPath(Path.of("model.gguf")).build()) {
 *     String answer = model.chat("Hello!");
 * }
 * }</pre>
 *
 * <p>Calls are serialised: one conversation's KV cache is kept, and a call whose messages extend
 * the previous call's evaluates only the new ones.
 */
public final class LlamaChatModel implements ChatModel, AutoCloseable {
    private final ChatEngine engine;

    private LlamaChatModel(ChatEngine engine) {
        this.engine = engine;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        return engine.chat(request, null);
    }

    /** The builder's defaults (model name, sampling, max tokens, and its default request parameters). */
    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return engine.defaultRequestParameters();
    }

    @Override
    public List<ChatModelListener> listeners() {
        return engine.listeners();
    }

    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }

    /** The model this adapter runs. */
    public Model model() {
        return engine.model();
    }

    /** Frees the context, and the model if the adapter loaded it. */
    @Override
    public void close() {
        engine.close();
    }

    /** Builder for {@link LlamaChatModel}. */
    public static final class Builder extends ChatBuilder<Builder> {
        private Builder() {}

        public LlamaChatModel build() {
            return new LlamaChatModel(engine());
        }
    }
}
