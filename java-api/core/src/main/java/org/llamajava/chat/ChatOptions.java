package org.llamajava.chat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.llamajava.grammar.JsonSchema;

/**
 * What a chat turn offers and asks of the model, as llama.cpp's chat API takes it: tools and
 * whether to call them, reasoning, and an optional JSON Schema for the reply.
 *
 * @param tools             the functions the model may call
 * @param toolChoice        whether it must call one ({@link ToolChoice#REQUIRED} makes the grammar force a call)
 * @param parallelToolCalls whether one reply may hold several calls
 * @param reasoningFormat   how reasoning is separated from content
 * @param enableThinking    whether a thinking model should think (templates that support switching it)
 * @param jsonSchema        a schema the reply's content must follow, or null
 * @param templateKwargs    extra template variables, each a JSON value as text (e.g. {@code "true"})
 * @param now               the time templates see (e.g. Llama 3's "Today Date"), or null for now
 * @param reasoningBudget   the most tokens the model may reason for before llama.cpp's reasoning
 *                          budget sampler forces the end of its thinking block, or -1 for no limit
 *                          (applied when the template thinks; see {@link ChatFormat#reasoningBudget})
 * @param reasoningBudgetMessage text forced before the thinking block's end tag when the budget is spent
 */
public record ChatOptions(List<Tool> tools, ToolChoice toolChoice, boolean parallelToolCalls,
                          ReasoningFormat reasoningFormat, boolean enableThinking, JsonSchema jsonSchema,
                          Map<String, String> templateKwargs, Instant now, int reasoningBudget,
                          String reasoningBudgetMessage) {

    /** No tools, reasoning separated ({@link ReasoningFormat#AUTO}), thinking enabled. */
    public static final ChatOptions DEFAULT = builder().build();

    public ChatOptions {
        tools = tools == null ? List.of() : List.copyOf(tools);
        toolChoice = toolChoice == null ? ToolChoice.AUTO : toolChoice;
        reasoningFormat = reasoningFormat == null ? ReasoningFormat.AUTO : reasoningFormat;
        templateKwargs = templateKwargs == null ? Map.of() : Map.copyOf(templateKwargs);
        reasoningBudgetMessage = reasoningBudgetMessage == null ? "" : reasoningBudgetMessage;
        if (reasoningBudget < -1) {
            throw new IllegalArgumentException("the reasoning budget is -1 (no limit) or at least 0 tokens; got "
                    + reasoningBudget);
        }
        String named = toolChoice.tool();
        if (named != null && tools.stream().noneMatch(t -> t.name().equals(named))) {
            throw new IllegalArgumentException("tool choice names '" + named + "', which is not among the tools "
                    + tools.stream().map(Tool::name).toList());
        }
        if ("required".equals(toolChoice.mode()) && tools.isEmpty()) {
            throw new IllegalArgumentException("tool choice 'required' needs at least one tool");
        }
        long distinct = tools.stream().map(Tool::name).distinct().count();
        if (distinct != tools.size()) {
            throw new IllegalArgumentException("tool names must be unique: " + tools.stream().map(Tool::name).toList());
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.tools = tools;
        b.toolChoice = toolChoice;
        b.parallelToolCalls = parallelToolCalls;
        b.reasoningFormat = reasoningFormat;
        b.enableThinking = enableThinking;
        b.jsonSchema = jsonSchema;
        b.templateKwargs = templateKwargs;
        b.now = now;
        b.reasoningBudget = reasoningBudget;
        b.reasoningBudgetMessage = reasoningBudgetMessage;
        return b;
    }

    /** The tools offered for a turn: all, or only the one a named choice requires. */
    List<Tool> offeredTools() {
        if (toolChoice.tool() == null) {
            return tools;
        }
        String named = toolChoice.tool();
        return tools.stream().filter(t -> t.name().equals(named)).toList();
    }

    /** Builder for {@link ChatOptions}. */
    public static final class Builder {
        private List<Tool> tools = List.of();
        private ToolChoice toolChoice = ToolChoice.AUTO;
        private boolean parallelToolCalls;
        private ReasoningFormat reasoningFormat = ReasoningFormat.AUTO;
        private boolean enableThinking = true;
        private JsonSchema jsonSchema;
        private Map<String, String> templateKwargs = Map.of();
        private Instant now;
        private int reasoningBudget = -1;
        private String reasoningBudgetMessage = "";

        private Builder() {}

        public Builder tools(List<Tool> v) { this.tools = v; return this; }
        public Builder tools(Tool... v) { this.tools = List.of(v); return this; }
        public Builder toolChoice(ToolChoice v) { this.toolChoice = v; return this; }
        public Builder parallelToolCalls(boolean v) { this.parallelToolCalls = v; return this; }
        public Builder reasoningFormat(ReasoningFormat v) { this.reasoningFormat = v; return this; }
        public Builder enableThinking(boolean v) { this.enableThinking = v; return this; }
        public Builder jsonSchema(JsonSchema v) { this.jsonSchema = v; return this; }
        public Builder templateKwargs(Map<String, String> v) { this.templateKwargs = v; return this; }
        public Builder now(Instant v) { this.now = v; return this; }
        /** At most {@code tokens} tokens of reasoning (-1: no limit), then {@code message} and the end tag are forced. */
        public Builder reasoningBudget(int tokens, String message) {
            this.reasoningBudget = tokens;
            this.reasoningBudgetMessage = message;
            return this;
        }

        public ChatOptions build() {
            return new ChatOptions(tools, toolChoice, parallelToolCalls, reasoningFormat, enableThinking, jsonSchema,
                    templateKwargs, now, reasoningBudget, reasoningBudgetMessage);
        }
    }
}
