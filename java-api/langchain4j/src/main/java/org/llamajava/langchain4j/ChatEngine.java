package org.llamajava.langchain4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.llamajava.AbortSignal;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.SamplingSettings;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatOptions;
import org.llamajava.chat.ChatReply;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatStreamListener;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.chat.Tool;
import org.llamajava.chat.ToolCall;
import org.llamajava.chat.ToolChoice;
import org.llamajava.grammar.JsonSchema;

/**
 * What {@link LlamaChatModel} and {@link LlamaStreamingChatModel} share: a context with one
 * conversation (its KV cache is reused across calls whose messages share a prefix), and the
 * mapping between LangChain4j's requests and responses and llama-java's chat API. One call at a
 * time: calls are serialised.
 */
final class ChatEngine implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final boolean ownsModel;
    private final Context context;
    private final ChatSession session;
    private final ChatSettings defaults;
    private final ChatRequestParameters defaultParameters;
    private final List<ChatModelListener> listeners;
    private boolean closed;

    ChatEngine(Model model, boolean ownsModel, ChatTemplate template, ChatSettings settings,
               ChatRequestParameters overrides, List<ChatModelListener> listeners) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.defaults = settings;
        this.listeners = List.copyOf(listeners);
        ChatRequestParameters base = DefaultChatRequestParameters.builder().modelName(modelName(model))
                .temperature(decimal(settings.sampling().temperature())).topP(decimal(settings.sampling().topP()))
                .topK(settings.sampling().topK() > 0 ? settings.sampling().topK() : null)
                .maxOutputTokens(settings.maxTokens()).build();
        this.defaultParameters = overrides == null ? base : base.overrideWith(overrides);
        if (!defaultParameters.modelName().equals(modelName(model))) {
            throw unsupportedModelName(defaultParameters.modelName());
        }
        this.context = model.createContext(ContextParams.builder().contextSize(settings.contextSize())
                .threads(settings.threads()).build());
        this.session = new ChatSession(context.newSequence(), template == null ? ChatTemplate.of(model) : template);
    }

    Model model() {
        return model;
    }

    /** A float setting as the decimal it was written as (0.8f: 0.8, not 0.800000011920929). */
    private static double decimal(float v) {
        return Double.parseDouble(Float.toString(v));
    }

    private UnsupportedFeatureException unsupportedModelName(String name) {
        return new UnsupportedFeatureException("modelName '" + name + "' is not supported: this adapter runs the model it"
                + " was built with (" + modelName(model) + "); build another adapter for another model");
    }

    static String modelName(Model model) {
        return model.path().getFileName().toString();
    }

    /** The builder's defaults as LangChain4j's request parameters (model name, sampling, max tokens, ...). */
    ChatRequestParameters defaultRequestParameters() {
        return defaultParameters;
    }

    List<ChatModelListener> listeners() {
        return listeners;
    }

    /** Runs one request; {@code listener} (may be null) hears content and reasoning deltas and complete tool calls. */
    synchronized ChatResponse chat(ChatRequest request, ChatStreamListener listener) {
        return chat(request, listener, null);
    }

    /** As {@link #chat(ChatRequest, ChatStreamListener)}, cancellable through {@code abort} (may be null). */
    synchronized ChatResponse chat(ChatRequest request, ChatStreamListener listener, AbortSignal abort) {
        if (closed) {
            throw new IllegalStateException("this chat model is closed");
        }
        ChatRequestParameters p = request.parameters();
        if (p.modelName() != null && !p.modelName().equals(modelName(model))) {
            throw unsupportedModelName(p.modelName());
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (dev.langchain4j.data.message.ChatMessage m : request.messages()) {
            messages.add(convert(m));
        }
        session.setMessages(messages);
        session.setOptions(options(p));
        GenerateOptions.Builder gen = GenerateOptions.builder()
                .maxTokens(p.maxOutputTokens() != null ? p.maxOutputTokens() : defaults.maxTokens())
                .abortSignal(abort);
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            gen.stop(p.stopSequences());
        }
        ChatReply reply = session.respond(sampling(p), gen.build(), listener);
        return response(reply, modelName(model));
    }

    /** The adapter's sampling settings with what the request sets (temperature, top-k, top-p, penalties). */
    SamplingSettings settings(ChatRequestParameters p) {
        SamplingSettings.Builder b = defaults.sampling().toBuilder();
        if (p.temperature() != null) {
            b.temperature(p.temperature().floatValue());
        }
        if (p.topK() != null) {
            b.topK(p.topK());
        }
        if (p.topP() != null) {
            b.topP(p.topP().floatValue());
        }
        if (p.frequencyPenalty() != null) {
            b.frequencyPenalty(p.frequencyPenalty().floatValue());
        }
        if (p.presencePenalty() != null) {
            b.presencePenalty(p.presencePenalty().floatValue());
        }
        return b.build();
    }

    private Sampler.Builder sampling(ChatRequestParameters p) {
        return settings(p).samplerBuilder();
    }

    private static ChatOptions options(ChatRequestParameters p) {
        ChatOptions.Builder o = ChatOptions.builder();
        List<ToolSpecification> specs = p.toolSpecifications();
        if (specs != null && !specs.isEmpty()) {
            List<Tool> tools = new ArrayList<>();
            for (ToolSpecification s : specs) {
                String schema = s.parameters() == null ? "{\"type\":\"object\",\"properties\":{}}"
                        : json(JsonSchemaElementUtils.toMap(s.parameters()));
                tools.add(Tool.of(s.name(), s.description() == null ? "" : s.description(), schema));
            }
            o.tools(tools);
            if (p.toolChoice() != null) {
                o.toolChoice(switch (p.toolChoice()) {
                    case REQUIRED -> ToolChoice.REQUIRED;
                    case NONE -> ToolChoice.NONE;
                    default -> ToolChoice.AUTO;
                });
            }
        }
        ResponseFormat format = p.responseFormat();
        if (format != null && format.type() == ResponseFormatType.JSON) {
            o.jsonSchema(format.jsonSchema() == null || format.jsonSchema().rootElement() == null
                    ? JsonSchema.of("{\"type\":\"object\"}")
                    : JsonSchema.of(json(JsonSchemaElementUtils.toMap(format.jsonSchema().rootElement()))));
        }
        return o.build();
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write a JSON schema: " + e.getMessage(), e);
        }
    }

    /** A LangChain4j message as llama-java's. */
    static ChatMessage convert(dev.langchain4j.data.message.ChatMessage m) {
        if (m instanceof SystemMessage s) {
            return ChatMessage.system(s.text());
        } else if (m instanceof UserMessage u) {
            if (!u.hasSingleText()) {
                boolean image = u.contents().stream().anyMatch(c -> c instanceof ImageContent);
                throw new UnsupportedFeatureException((image ? "image input is" : "non-text user content is")
                        + " not supported: only text user messages (this one has " + u.contents().size()
                        + " parts; images and audio come with multimodal input)");
            }
            return ChatMessage.user(u.singleText());
        } else if (m instanceof AiMessage a) {
            List<ToolCall> calls = new ArrayList<>();
            if (a.hasToolExecutionRequests()) {
                for (ToolExecutionRequest r : a.toolExecutionRequests()) {
                    calls.add(new ToolCall(r.name(), r.arguments() == null ? "{}" : r.arguments(), r.id()));
                }
            }
            return new ChatMessage(ChatMessage.ASSISTANT, a.text() == null ? "" : a.text(),
                    a.thinking() == null ? "" : a.thinking(), calls, "", "");
        } else if (m instanceof ToolExecutionResultMessage t) {
            return new ChatMessage(ChatMessage.TOOL, t.text(), "", List.of(), t.toolName(), t.id());
        }
        throw new IllegalArgumentException("unsupported message type " + m.type());
    }

    /** llama-java's reply as a LangChain4j response. */
    static ChatResponse response(ChatReply reply, String modelName) {
        ChatMessage m = reply.message();
        List<ToolExecutionRequest> requests = new ArrayList<>();
        for (ToolCall c : m.toolCalls()) {
            requests.add(ToolExecutionRequest.builder().id(c.id()).name(c.name()).arguments(c.arguments()).build());
        }
        AiMessage.Builder ai = AiMessage.builder().text(m.content().isEmpty() && !requests.isEmpty() ? null : m.content());
        if (!m.reasoningContent().isEmpty()) {
            ai.thinking(m.reasoningContent());
        }
        if (!requests.isEmpty()) {
            ai.toolExecutionRequests(requests);
        }
        Completion c = reply.completion();
        FinishReason finish = !requests.isEmpty() ? FinishReason.TOOL_EXECUTION : switch (c.finishReason()) {
            case END_OF_GENERATION, STOP_STRING -> FinishReason.STOP;
            case MAX_TOKENS -> FinishReason.LENGTH;
            default -> FinishReason.OTHER;
        };
        return ChatResponse.builder().aiMessage(ai.build()).finishReason(finish).modelName(modelName)
                .id("chatcmpl-" + UUID.randomUUID())
                .tokenUsage(new TokenUsage(c.promptTokens() + c.cachedTokens(), c.tokenCount())).build();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        context.close();
        if (ownsModel) {
            model.close();
        }
    }
}
