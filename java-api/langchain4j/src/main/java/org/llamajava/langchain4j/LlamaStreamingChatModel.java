package org.llamajava.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import java.util.List;
import java.util.Set;
import org.llamajava.AbortSignal;
import org.llamajava.Model;
import org.llamajava.chat.ChatStreamListener;
import org.llamajava.chat.ToolCall;

/**
 * A LangChain4j {@link StreamingChatModel} over llama-java, as {@link LlamaChatModel} but
 * streaming: partial text and partial thinking as they are generated, each tool call when it is
 * complete, then the whole response. The handler is called on the caller's thread, which the call
 * occupies until the reply is complete. The partial-response context's {@code StreamingHandle}
 * cancels the generation (at its next token; the handler hears nothing more). What a handler
 * callback throws goes to its {@code onError}.
 */
public final class LlamaStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final ChatEngine engine;

    private LlamaStreamingChatModel(ChatEngine engine) {
        this.engine = engine;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        int[] calls = {0};
        Cancel cancel = new Cancel();
        ChatResponse response;
        try {
            response = engine.chat(request, new ChatStreamListener() {
                @Override
                public void onContent(String delta) {
                    if (!cancel.isCancelled()) {
                        guarded(handler, () -> handler.onPartialResponse(new PartialResponse(delta),
                                new PartialResponseContext(cancel)));
                    }
                }

                @Override
                public void onReasoning(String delta) {
                    if (!cancel.isCancelled()) {
                        guarded(handler, () -> handler.onPartialThinking(new PartialThinking(delta),
                                new PartialThinkingContext(cancel)));
                    }
                }

                @Override
                public void onToolCall(ToolCall call) {
                    if (!cancel.isCancelled()) {
                        guarded(handler, () -> handler.onCompleteToolCall(new CompleteToolCall(calls[0]++,
                                ToolExecutionRequest.builder().id(call.id()).name(call.name())
                                        .arguments(call.arguments()).build())));
                    }
                }
            }, cancel.signal);
        } catch (UnsupportedFeatureException e) {
            throw e; // a request this adapter cannot serve: thrown before anything streams, as LangChain4j's models do
        } catch (RuntimeException e) {
            if (!cancel.isCancelled()) {
                guarded(handler, () -> handler.onError(e));
            }
            return;
        }
        if (!cancel.isCancelled()) {
            try {
                handler.onCompleteResponse(response);
            } catch (RuntimeException e) {
                guarded(handler, () -> handler.onError(e));
            }
        }
    }

    /**
     * Runs a handler callback; what it throws goes to the handler's {@code onError} (as LangChain4j's
     * own streaming models do), and what {@code onError} throws is dropped.
     */
    private static void guarded(StreamingChatResponseHandler handler, Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            try {
                handler.onError(e);
            } catch (RuntimeException ignored) {
                // the handler's own error callback failed: nothing left to tell
            }
        }
    }

    /** Cancels a streaming call: the generation stops at its next token and the handler hears no more. */
    private static final class Cancel implements StreamingHandle {
        final AbortSignal signal = new AbortSignal();

        @Override
        public void cancel() {
            signal.abort();
        }

        @Override
        public boolean isCancelled() {
            return signal.isAborted();
        }
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

    /** Builder for {@link LlamaStreamingChatModel}. */
    public static final class Builder extends ChatBuilder<Builder> {
        private Builder() {}

        public LlamaStreamingChatModel build() {
            return new LlamaStreamingChatModel(engine());
        }
    }
}
