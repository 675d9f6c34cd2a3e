package org.llamajava.springai;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;

/**
 * Options of {@link LlamaJavaChatModel}: Spring AI's portable and tool-calling options plus what
 * llama.cpp's sampler and chat API add: the seed, the tool choice, logit biases and the repetition
 * penalty. Unset (null) options fall back to the model's defaults.
 *
 * <p>{@code toolChoice} {@code "required"} forces the reply to a user turn to call a tool; once tool
 * results are in the conversation the model answers with {@code "auto"}, so that Spring AI's
 * internal tool loop ends.
 */
public class LlamaJavaChatOptions implements ToolCallingChatOptions {
    /** Tool choice: the model decides. */
    public static final String AUTO = "auto";
    /** Tool choice: the reply to a user turn must call a tool. */
    public static final String REQUIRED = "required";
    /** Tool choice: no tool calls. */
    public static final String NONE = "none";

    private List<ToolCallback> toolCallbacks = new ArrayList<>();
    private Set<String> toolNames = new HashSet<>();
    private Map<String, Object> toolContext = new HashMap<>();
    private Boolean internalToolExecutionEnabled;
    private String model;
    private Double frequencyPenalty;
    private Integer maxTokens;
    private Double presencePenalty;
    private List<String> stopSequences;
    private Double temperature;
    private Integer topK;
    private Double topP;
    private Long seed;
    private Double minP;
    private String toolChoice;
    private Map<Integer, Float> logitBias;
    private Double repeatPenalty;
    private Integer repeatLastN;

    @Override public List<ToolCallback> getToolCallbacks() { return toolCallbacks; }
    @Override public void setToolCallbacks(List<ToolCallback> v) { this.toolCallbacks = new ArrayList<>(v); }
    @Override public Set<String> getToolNames() { return toolNames; }
    @Override public void setToolNames(Set<String> v) { this.toolNames = new HashSet<>(v); }
    @Override public Map<String, Object> getToolContext() { return toolContext; }
    @Override public void setToolContext(Map<String, Object> v) { this.toolContext = new HashMap<>(v); }
    @Override public Boolean getInternalToolExecutionEnabled() { return internalToolExecutionEnabled; }
    @Override public void setInternalToolExecutionEnabled(Boolean v) { this.internalToolExecutionEnabled = v; }
    @Override public String getModel() { return model; }
    public void setModel(String v) { this.model = v; }
    @Override public Double getFrequencyPenalty() { return frequencyPenalty; }
    public void setFrequencyPenalty(Double v) { this.frequencyPenalty = v; }
    @Override public Integer getMaxTokens() { return maxTokens; }
    public void setMaxTokens(Integer v) { this.maxTokens = v; }
    @Override public Double getPresencePenalty() { return presencePenalty; }
    public void setPresencePenalty(Double v) { this.presencePenalty = v; }
    @Override public List<String> getStopSequences() { return stopSequences; }
    public void setStopSequences(List<String> v) { this.stopSequences = v; }
    @Override public Double getTemperature() { return temperature; }
    public void setTemperature(Double v) { this.temperature = v; }
    @Override public Integer getTopK() { return topK; }
    public void setTopK(Integer v) { this.topK = v; }
    @Override public Double getTopP() { return topP; }
    public void setTopP(Double v) { this.topP = v; }
    /** Seed of the sampler (null: random, as llama-server's); llama.cpp uses its low 32 bits. */
    public Long getSeed() { return seed; }
    public void setSeed(Long seed) { this.seed = seed; }
    /** Min-p (null: 0.05, llama-server's; 0: off). */
    public Double getMinP() { return minP; }
    public void setMinP(Double minP) { this.minP = minP; }
    public String getToolChoice() { return toolChoice; }

    /** One of {@link #AUTO}, {@link #REQUIRED}, {@link #NONE} (or null: auto). */
    public void setToolChoice(String toolChoice) {
        if (toolChoice != null && !List.of(AUTO, REQUIRED, NONE).contains(toolChoice)) {
            throw new IllegalArgumentException("toolChoice must be auto, required or none, not '" + toolChoice + "'");
        }
        this.toolChoice = toolChoice;
    }

    /** Token id to logit bias, applied at every step (null: none). */
    public Map<Integer, Float> getLogitBias() { return logitBias; }
    public void setLogitBias(Map<Integer, Float> logitBias) { this.logitBias = logitBias; }
    /** llama.cpp's repetition penalty (1 is off) over the last {@link #getRepeatLastN()} tokens. */
    public Double getRepeatPenalty() { return repeatPenalty; }
    public void setRepeatPenalty(Double repeatPenalty) { this.repeatPenalty = repeatPenalty; }
    public Integer getRepeatLastN() { return repeatLastN; }
    public void setRepeatLastN(Integer repeatLastN) { this.repeatLastN = repeatLastN; }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends ChatOptions> T copy() {
        LlamaJavaChatOptions o = new LlamaJavaChatOptions();
        o.setToolCallbacks(getToolCallbacks());
        o.setToolNames(getToolNames());
        o.setToolContext(getToolContext());
        o.setInternalToolExecutionEnabled(getInternalToolExecutionEnabled());
        o.setModel(getModel());
        o.setFrequencyPenalty(getFrequencyPenalty());
        o.setMaxTokens(getMaxTokens());
        o.setPresencePenalty(getPresencePenalty());
        o.setStopSequences(getStopSequences());
        o.setTemperature(getTemperature());
        o.setTopK(getTopK());
        o.setTopP(getTopP());
        o.seed = seed;
        o.minP = minP;
        o.toolChoice = toolChoice;
        o.logitBias = logitBias == null ? null : new LinkedHashMap<>(logitBias);
        o.repeatPenalty = repeatPenalty;
        o.repeatLastN = repeatLastN;
        return (T) o;
    }

    /**
     * {@code runtime} over {@code defaults}: each option the runtime options set wins; tool callbacks
     * and names are merged as Spring AI's models merge them.
     */
    static LlamaJavaChatOptions merge(ChatOptions runtime, LlamaJavaChatOptions defaults) {
        LlamaJavaChatOptions o = defaults.copy();
        if (runtime == null) {
            return o;
        }
        if (runtime.getModel() != null) o.setModel(runtime.getModel());
        if (runtime.getFrequencyPenalty() != null) o.setFrequencyPenalty(runtime.getFrequencyPenalty());
        if (runtime.getMaxTokens() != null) o.setMaxTokens(runtime.getMaxTokens());
        if (runtime.getPresencePenalty() != null) o.setPresencePenalty(runtime.getPresencePenalty());
        if (runtime.getStopSequences() != null) o.setStopSequences(runtime.getStopSequences());
        if (runtime.getTemperature() != null) o.setTemperature(runtime.getTemperature());
        if (runtime.getTopK() != null) o.setTopK(runtime.getTopK());
        if (runtime.getTopP() != null) o.setTopP(runtime.getTopP());
        if (runtime instanceof ToolCallingChatOptions t) {
            o.setToolCallbacks(ToolCallingChatOptions.mergeToolCallbacks(t.getToolCallbacks(),
                    defaults.getToolCallbacks()));
            o.setToolNames(ToolCallingChatOptions.mergeToolNames(t.getToolNames(), defaults.getToolNames()));
            o.setToolContext(ToolCallingChatOptions.mergeToolContext(t.getToolContext(), defaults.getToolContext()));
            if (t.getInternalToolExecutionEnabled() != null) {
                o.setInternalToolExecutionEnabled(t.getInternalToolExecutionEnabled());
            }
        }
        if (runtime instanceof LlamaJavaChatOptions l) {
            if (l.seed != null) o.seed = l.seed;
            if (l.minP != null) o.minP = l.minP;
            if (l.toolChoice != null) o.toolChoice = l.toolChoice;
            if (l.logitBias != null) o.logitBias = new LinkedHashMap<>(l.logitBias);
            if (l.repeatPenalty != null) o.repeatPenalty = l.repeatPenalty;
            if (l.repeatLastN != null) o.repeatLastN = l.repeatLastN;
        }
        return o;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link LlamaJavaChatOptions}. */
    public static final class Builder {
        private final LlamaJavaChatOptions o = new LlamaJavaChatOptions();

        private Builder() {}

        public Builder temperature(Double v) { o.setTemperature(v); return this; }
        public Builder topP(Double v) { o.setTopP(v); return this; }
        public Builder topK(Integer v) { o.setTopK(v); return this; }
        public Builder maxTokens(Integer v) { o.setMaxTokens(v); return this; }
        public Builder stopSequences(List<String> v) { o.setStopSequences(v); return this; }
        public Builder frequencyPenalty(Double v) { o.setFrequencyPenalty(v); return this; }
        public Builder presencePenalty(Double v) { o.setPresencePenalty(v); return this; }
        public Builder seed(Long v) { o.setSeed(v); return this; }
        public Builder minP(Double v) { o.setMinP(v); return this; }
        /** {@link #AUTO}, {@link #REQUIRED} or {@link #NONE}. */
        public Builder toolChoice(String v) { o.setToolChoice(v); return this; }

        /** Adds {@code bias} to {@code token}'s logit at every step (llama.cpp's logit bias sampler). */
        public Builder logitBias(int token, float bias) {
            if (o.logitBias == null) {
                o.logitBias = new LinkedHashMap<>();
            }
            o.logitBias.put(token, bias);
            return this;
        }

        /** llama.cpp's repetition penalty over the last {@code lastN} tokens (1 is off). */
        public Builder repeatPenalty(int lastN, double penalty) {
            o.repeatLastN = lastN;
            o.repeatPenalty = penalty;
            return this;
        }

        public Builder toolCallbacks(ToolCallback... v) { o.setToolCallbacks(List.of(v)); return this; }
        public Builder toolCallbacks(List<ToolCallback> v) { o.setToolCallbacks(v); return this; }
        public Builder toolNames(String... v) { o.setToolNames(Set.of(v)); return this; }
        public Builder internalToolExecutionEnabled(Boolean v) { o.setInternalToolExecutionEnabled(v); return this; }

        /** The options (a copy: the builder can go on). */
        public LlamaJavaChatOptions build() {
            return o.copy();
        }
    }
}
