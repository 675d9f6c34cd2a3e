package org.llamajava.springai;

import java.nio.file.Path;
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
import org.llamajava.ModelParams;
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
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.DefaultToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.tool.definition.ToolDefinition;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

/**
 * A Spring AI {@link ChatModel} that runs a GGUF model in this process through llama-java:
 * {@code call} and {@code stream}, system/user/assistant/tool messages, tool calling through
 * Spring AI's {@link ToolCallingManager} (tools rendered by the model's chat template, calls parsed
 * by llama.cpp's chat API, executed by the manager and sent back, as Spring AI's other models do),
 * and {@link LlamaJavaChatOptions} (temperature, top-p, top-k, max tokens, stop, seed, penalties,
 * logit biases, tool choice).
 *
 * <pre>{@code
 * try (LlamaJavaChatModel chat = LlamaJavaChatModel.builder().modelPath(Path.of("model.gguf")).build()) {
 *     String answer = ChatClient.create(chat).prompt("Hello!").call().content();
 * }
 * }</pre>
 *
 * <p>One conversation's KV cache is kept: calls are serialised, and a call whose messages extend the
 * previous call's evaluates only the new ones.
 */
public final class LlamaJavaChatModel implements ChatModel, AutoCloseable {
    private final Model model;
    private final boolean ownsModel;
    private final Context context;
    private final ChatSession session;
    private final LlamaJavaChatOptions defaults;
    private final ToolCallingManager toolCallingManager;
    private final ToolExecutionEligibilityPredicate toolExecution;
    private boolean closed;

    private LlamaJavaChatModel(Builder b, Model model) {
        this.model = model;
        this.ownsModel = b.model == null;
        this.defaults = LlamaJavaChatOptions.merge(b.defaultOptions, baseOptions(model));
        this.toolCallingManager = b.toolCallingManager != null ? b.toolCallingManager : ToolCallingManager.builder().build();
        this.toolExecution = b.toolExecution != null ? b.toolExecution : new DefaultToolExecutionEligibilityPredicate();
        ContextParams.Builder cp = ContextParams.builder().contextSize(b.contextSize);
        if (b.threads != null) {
            cp.threads(b.threads);
        }
        this.context = model.createContext(cp.build());
        try {
            ChatTemplate template = b.chatTemplate == null ? ChatTemplate.of(model) : ChatTemplate.resolve(model, b.chatTemplate);
            this.session = new ChatSession(context.newSequence(), template);
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    private static LlamaJavaChatOptions baseOptions(Model model) {
        SamplingSettings d = SamplingSettings.defaults();
        LlamaJavaChatOptions o = LlamaJavaChatOptions.builder().temperature(decimal(d.temperature())).topK(d.topK())
                .topP(decimal(d.topP())).minP(decimal(d.minP())).maxTokens(512).build();
        o.setModel(model.path().getFileName().toString());
        return o;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The model this adapter runs. */
    public Model model() {
        return model;
    }

    @Override
    public LlamaJavaChatOptions getDefaultOptions() {
        return defaults.copy();
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        return internalCall(requestPrompt(prompt));
    }

    private Prompt requestPrompt(Prompt prompt) {
        return new Prompt(prompt.getInstructions(), LlamaJavaChatOptions.merge(prompt.getOptions(), defaults));
    }

    private ChatResponse internalCall(Prompt prompt) {
        ChatResponse response = generate(prompt, null, null);
        if (toolExecution.isToolExecutionRequired(prompt.getOptions(), response)) {
            ToolExecutionResult result = toolCallingManager.executeToolCalls(prompt, response);
            if (result.returnDirect()) {
                return ChatResponse.builder().from(response).generations(ToolExecutionResult.buildGenerations(result))
                        .build();
            }
            return internalCall(new Prompt(result.conversationHistory(), afterTools(prompt)));
        }
        return response;
    }

    /** Once tool results are in, a required tool choice gives way to auto, so that the tool loop ends. */
    private static LlamaJavaChatOptions afterTools(Prompt prompt) {
        LlamaJavaChatOptions o = ((LlamaJavaChatOptions) prompt.getOptions()).copy();
        if (LlamaJavaChatOptions.REQUIRED.equals(o.getToolChoice())) {
            o.setToolChoice(LlamaJavaChatOptions.AUTO);
        }
        return o;
    }

    /**
     * Streams the reply: one {@link ChatResponse} per text piece, then one with the finish reason,
     * usage and any tool calls; tools the manager executes are followed by the model's next reply
     * in the same stream. Cancelling the subscription stops the generation at its next token.
     */
    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        Prompt request = requestPrompt(prompt);
        return Flux.<ChatResponse>create(sink -> {
            AbortSignal abort = new AbortSignal();
            sink.onDispose(abort::abort);
            try {
                streamInternal(request, sink, abort);
                sink.complete();
            } catch (RuntimeException e) {
                sink.error(e);
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }

    private void streamInternal(Prompt prompt, FluxSink<ChatResponse> sink, AbortSignal abort) {
        ChatResponse last = generate(prompt, new ChatStreamListener() {
            @Override
            public void onContent(String delta) {
                sink.next(new ChatResponse(List.of(new Generation(new AssistantMessage(delta)))));
            }
        }, abort);
        if (abort.isAborted()) {
            return;
        }
        boolean tools = toolExecution.isToolExecutionRequired(prompt.getOptions(), last);
        // the last piece: no text (it was streamed), the finish reason, usage and tool calls
        AssistantMessage done = last.getResult().getOutput();
        sink.next(ChatResponse.builder().from(last).generations(List.of(new Generation(AssistantMessage.builder()
                .content("").toolCalls(done.getToolCalls()).properties(done.getMetadata()).build(),
                last.getResult().getMetadata()))).build());
        if (tools) {
            ToolExecutionResult result = toolCallingManager.executeToolCalls(prompt, last);
            if (result.returnDirect()) {
                sink.next(ChatResponse.builder().from(last).generations(ToolExecutionResult.buildGenerations(result))
                        .build());
                return;
            }
            streamInternal(new Prompt(result.conversationHistory(), afterTools(prompt)), sink, abort);
        }
    }

    /** One model turn over the prompt's messages. */
    private synchronized ChatResponse generate(Prompt prompt, ChatStreamListener listener, AbortSignal abort) {
        if (closed) {
            throw new IllegalStateException("this LlamaJavaChatModel is closed");
        }
        LlamaJavaChatOptions o = (LlamaJavaChatOptions) prompt.getOptions();
        String name = model.path().getFileName().toString();
        if (o.getModel() != null && !o.getModel().equals(name)) {
            throw new IllegalArgumentException("model '" + o.getModel() + "' is not served here: this ChatModel runs "
                    + name + " (leave the model option unset)");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (Message m : prompt.getInstructions()) {
            convert(m, messages);
        }
        session.setMessages(messages);
        session.setOptions(chatOptions(o));
        GenerateOptions.Builder gen = GenerateOptions.builder().maxTokens(o.getMaxTokens()).abortSignal(abort);
        if (o.getStopSequences() != null && !o.getStopSequences().isEmpty()) {
            gen.stop(o.getStopSequences());
        }
        ChatReply reply = session.respond(sampling(o), gen.build(), listener);
        return response(reply, name);
    }

    private ChatOptions chatOptions(LlamaJavaChatOptions o) {
        ChatOptions.Builder b = ChatOptions.builder();
        List<ToolDefinition> definitions = toolCallingManager.resolveToolDefinitions(o);
        if (!definitions.isEmpty()) {
            // tools stay in the prompt with choice none (no call allowed), so that the prompt, and its cache, stay the same
            List<Tool> tools = new ArrayList<>();
            for (ToolDefinition d : definitions) {
                tools.add(Tool.of(d.name(), d.description() == null ? "" : d.description(), d.inputSchema()));
            }
            b.tools(tools);
            String choice = o.getToolChoice() == null ? LlamaJavaChatOptions.AUTO : o.getToolChoice();
            b.toolChoice(switch (choice) {
                case LlamaJavaChatOptions.REQUIRED -> ToolChoice.REQUIRED;
                case LlamaJavaChatOptions.NONE -> ToolChoice.NONE;
                default -> ToolChoice.AUTO;
            });
        }
        return b.build();
    }

    /** A float setting as the decimal it was written as (0.8f: 0.8, not 0.800000011920929). */
    private static double decimal(float v) {
        return Double.parseDouble(Float.toString(v));
    }

    /** The options over core's sampling defaults (llama-server's), as every llama-java front end maps them. */
    static SamplingSettings settings(LlamaJavaChatOptions o) {
        SamplingSettings.Builder b = SamplingSettings.builder();
        if (o.getLogitBias() != null) {
            b.logitBias(o.getLogitBias());
        }
        if (o.getRepeatLastN() != null) {
            b.penaltyLastN(o.getRepeatLastN());
        }
        if (o.getRepeatPenalty() != null) {
            b.repeatPenalty(o.getRepeatPenalty().floatValue());
        }
        if (o.getFrequencyPenalty() != null) {
            b.frequencyPenalty(o.getFrequencyPenalty().floatValue());
        }
        if (o.getPresencePenalty() != null) {
            b.presencePenalty(o.getPresencePenalty().floatValue());
        }
        if (o.getTemperature() != null) {
            b.temperature(o.getTemperature().floatValue());
        }
        if (o.getTopK() != null) {
            b.topK(o.getTopK());
        }
        if (o.getTopP() != null) {
            b.topP(o.getTopP().floatValue());
        }
        if (o.getMinP() != null) {
            b.minP(o.getMinP().floatValue());
        }
        if (o.getSeed() != null) {
            b.seed(o.getSeed());
        }
        return b.build();
    }

    private static Sampler.Builder sampling(LlamaJavaChatOptions o) {
        return settings(o).samplerBuilder();
    }

    private static void convert(Message m, List<ChatMessage> out) {
        if (m instanceof SystemMessage s) {
            out.add(ChatMessage.system(s.getText()));
        } else if (m instanceof UserMessage u) {
            if (!u.getMedia().isEmpty()) {
                throw new IllegalArgumentException("media in user messages is not supported (text only): "
                        + u.getMedia().size() + " media parts");
            }
            out.add(ChatMessage.user(u.getText()));
        } else if (m instanceof AssistantMessage a) {
            List<ToolCall> calls = new ArrayList<>();
            for (AssistantMessage.ToolCall c : a.getToolCalls()) {
                calls.add(new ToolCall(c.name(), c.arguments() == null ? "{}" : c.arguments(), c.id()));
            }
            out.add(new ChatMessage(ChatMessage.ASSISTANT, a.getText() == null ? "" : a.getText(), "", calls, "", ""));
        } else if (m instanceof ToolResponseMessage t) {
            for (ToolResponseMessage.ToolResponse r : t.getResponses()) {
                out.add(new ChatMessage(ChatMessage.TOOL, r.responseData(), "", List.of(), r.name(), r.id()));
            }
        } else {
            throw new IllegalArgumentException("unsupported message type " + m.getMessageType());
        }
    }

    private static ChatResponse response(ChatReply reply, String modelName) {
        ChatMessage m = reply.message();
        List<AssistantMessage.ToolCall> calls = new ArrayList<>();
        for (ToolCall c : m.toolCalls()) {
            calls.add(new AssistantMessage.ToolCall(c.id(), "function", c.name(), c.arguments()));
        }
        AssistantMessage.Builder ai = AssistantMessage.builder().content(m.content()).toolCalls(calls);
        if (!m.reasoningContent().isEmpty()) {
            ai.properties(Map.of("reasoningContent", m.reasoningContent()));
        }
        Completion c = reply.completion();
        String finish = !calls.isEmpty() ? "TOOL_CALLS" : switch (c.finishReason()) {
            case END_OF_GENERATION, STOP_STRING -> "STOP";
            case MAX_TOKENS -> "LENGTH";
            case CANCELLED -> "CANCELLED";
            default -> "OTHER";
        };
        return new ChatResponse(List.of(new Generation(ai.build(),
                ChatGenerationMetadata.builder().finishReason(finish).build())),
                ChatResponseMetadata.builder().id("chatcmpl-" + UUID.randomUUID()).model(modelName)
                        .usage(new DefaultUsage(c.promptTokens() + c.cachedTokens(), c.tokenCount())).build());
    }

    /** Frees the context, and the model if this adapter loaded it. Closing twice does nothing. */
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

    /** Builder for {@link LlamaJavaChatModel}: a model path (loaded and owned) or a loaded model (shared). */
    public static final class Builder {
        private Path modelPath;
        private Model model;
        private int gpuLayers;
        private int contextSize = 4096;
        private Integer threads;
        private String chatTemplate;
        private LlamaJavaChatOptions defaultOptions;
        private ToolCallingManager toolCallingManager;
        private ToolExecutionEligibilityPredicate toolExecution;

        private Builder() {}

        /** A GGUF file to load; the chat model closes it with itself. */
        public Builder modelPath(Path v) { this.modelPath = v; return this; }
        /** A loaded model to share; left open when the chat model closes. */
        public Builder model(Model v) { this.model = v; return this; }
        /** Layers to offload to the GPU when loading {@link #modelPath} (0: none, -1: all). */
        public Builder gpuLayers(int v) { this.gpuLayers = v; return this; }
        /** Tokens of the context (default 4096). */
        public Builder contextSize(int v) { this.contextSize = v; return this; }
        /** Threads (default: llama-java's). */
        public Builder threads(Integer v) { this.threads = v; return this; }
        /** A built-in template name (e.g. {@code chatml}) or a Jinja file; default: the model's own. */
        public Builder chatTemplate(String v) { this.chatTemplate = v; return this; }
        /** Options every prompt starts from (a prompt's own options win). */
        public Builder defaultOptions(LlamaJavaChatOptions v) { this.defaultOptions = v; return this; }
        /** Resolves and executes tools (default: Spring AI's default manager). */
        public Builder toolCallingManager(ToolCallingManager v) { this.toolCallingManager = v; return this; }
        /** Decides when tools run inside {@code call}/{@code stream} (default: Spring AI's). */
        public Builder toolExecutionEligibilityPredicate(ToolExecutionEligibilityPredicate v) {
            this.toolExecution = v;
            return this;
        }

        /** Loads (or takes) the model and creates the context. */
        public LlamaJavaChatModel build() {
            if ((modelPath == null) == (model == null)) {
                throw new IllegalArgumentException("give the builder either modelPath(...) or model(...)");
            }
            // before the model loads: a template that is accepted works for every request (tools too)
            ChatTemplate.checkResolvableForChatApi(chatTemplate);
            Model m = model != null ? model : Model.load(modelPath, ModelParams.builder().gpuLayers(gpuLayers).build());
            try {
                return new LlamaJavaChatModel(this, m);
            } catch (RuntimeException e) {
                if (model == null) {
                    m.close();
                }
                throw e;
            }
        }
    }
}
