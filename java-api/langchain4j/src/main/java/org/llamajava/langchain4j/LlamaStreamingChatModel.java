package org.llamajava.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.util.Set;
import org.llamajava.Model;
import org.llamajava.chat.ChatStreamListener;
import org.llamajava.chat.ToolCall;

/**
 * A LangChain4j {@link StreamingChatModel} over llama-java, as {@link LlamaChatModel} but
 * streaming: partial text and partial thinking as they are generated, each tool call when it is
 * complete, then the whole response. The handler is called on the caller's thread, which the call
 * occupies until the reply is complete.
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
        try {
            handler.onCompleteResponse(engine.chat(request, new ChatStreamListener() {
                @Override
                public void onContent(String delta) {
                    handler.onPartialResponse(delta);
                }

                @Override
                public void onReasoning(String delta) {
                    handler.onPartialThinking(new PartialThinking(delta));
                }

                @Override
                public void onToolCall(ToolCall call) {
                    handler.onCompleteToolCall(new CompleteToolCall(calls[0]++, ToolExecutionRequest.builder()
                            .id(call.id()).name(call.name()).arguments(call.arguments()).build()));
                }
            }));
        } catch (RuntimeException e) {
            handler.onError(e);
        }
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
