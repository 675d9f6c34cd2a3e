package org.llamajava.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.grammar.Grammar;
import org.llamajava.grammar.GrammarTrigger;
import org.llamajava.internal.Json;

/**
 * What llama.cpp's chat API ({@code common_chat_templates_apply}) makes of messages and
 * {@link ChatOptions} for a template: the prompt, and how to sample and parse the reply (the
 * format's grammar, lazy or not, with its triggers; preserved tokens; extra stop strings; the
 * parser). Made by {@link ChatTemplate#apply}.
 */
public final class ChatFormat {
    private final JsonNode json;
    private final ReasoningFormat reasoningFormat;
    private final List<GrammarTrigger> triggers = new ArrayList<>();

    ChatFormat(JsonNode json, ReasoningFormat reasoningFormat) {
        this.json = json;
        this.reasoningFormat = reasoningFormat;
        for (JsonNode t : json.path("grammar_triggers")) {
            String type = t.path("type").asText();
            String value = t.path("value").asText("");
            int token = t.path("token").asInt(-1);
            triggers.add(switch (type) {
                case "token" -> token >= 0 ? GrammarTrigger.token(token) : GrammarTrigger.word(value);
                case "word" -> GrammarTrigger.word(value);
                case "pattern" -> GrammarTrigger.pattern(value);
                case "pattern_full" -> GrammarTrigger.patternFull(value);
                default -> throw new IllegalStateException("unknown grammar trigger type " + type);
            });
        }
    }

    /** The rendered prompt. */
    public String prompt() {
        return json.path("prompt").asText();
    }

    /** llama.cpp's name of the output format (e.g. {@code peg-native}, {@code Content-only}). */
    public String formatName() {
        return json.path("format_name").asText();
    }

    /** The format's GBNF (tool calls, or the JSON Schema), or "" if output is free. */
    public String grammarText() {
        return json.path("grammar").asText("");
    }

    /** Whether the grammar applies only from a trigger on (tool calls the model may or may not make). */
    public boolean grammarLazy() {
        return json.path("grammar_lazy").asBoolean();
    }

    /** The triggers of a lazy grammar. */
    public List<GrammarTrigger> grammarTriggers() {
        return List.copyOf(triggers);
    }

    /**
     * The grammar to sample with, or null if the output is free: lazy with its triggers, or eager
     * having consumed the generation prompt (as llama.cpp's common sampler prefills it).
     */
    public Grammar grammar() {
        String g = grammarText();
        if (g.isEmpty()) {
            return null;
        }
        Grammar grammar = Grammar.gbnf(g);
        if (grammarLazy()) {
            return triggers.isEmpty() ? null : grammar.lazy(triggers);
        }
        return grammar.withPrefill(generationPrompt());
    }

    /** The text the prompt ends with to start the reply (e.g. {@code <|im_start|>assistant\n}). */
    public String generationPrompt() {
        return json.path("generation_prompt").asText("");
    }

    /** Tokens the format relies on (e.g. {@code <tool_call>}), which must come out as text. */
    public List<String> preservedTokens() {
        return strings("preserved_tokens");
    }

    /** Stop strings the format adds to the model's end-of-generation tokens. */
    public List<String> additionalStops() {
        return strings("additional_stops");
    }

    /** Whether the template can think. */
    public boolean supportsThinking() {
        return json.path("supports_thinking").asBoolean();
    }

    /** The tag that opens thinking (e.g. {@code <think>}), or "". */
    public String thinkingStartTag() {
        return json.path("thinking_start_tag").asText("");
    }

    /** The tags that close thinking. */
    public List<String> thinkingEndTags() {
        return strings("thinking_end_tags");
    }

    /**
     * A reasoning budget of {@code tokens} with this format's thinking tags (the first end tag),
     * starting inside the reasoning block when the generation prompt opens it; add it to the
     * sampler with {@link org.llamajava.Sampler.Builder#reasoningBudget}.
     *
     * @throws IllegalStateException if the template does not think or names no thinking tags
     */
    public org.llamajava.ReasoningBudget reasoningBudget(int tokens, String message) {
        String start = thinkingStartTag();
        List<String> ends = thinkingEndTags();
        if (!supportsThinking() || start.isEmpty() || ends.isEmpty()) {
            throw new IllegalStateException("this chat template does not think (no thinking tags); no reasoning budget");
        }
        boolean inside = generationPrompt().stripTrailing().endsWith(start.strip());
        return new org.llamajava.ReasoningBudget(tokens, start, ends.get(0), message, inside);
    }

    /** The reasoning format the reply is parsed with. */
    public ReasoningFormat reasoningFormat() {
        return reasoningFormat;
    }

    /** A new parser of replies in this format; close it when done. */
    public ChatParser parser() {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("format", json.path("format").asInt());
        p.put("reasoning_format", reasoningFormat.llamaName());
        p.put("generation_prompt", generationPrompt());
        p.put("parse_tool_calls", true);
        p.put("parser", json.path("parser").asText(""));
        return new ChatParser(Json.write(p));
    }

    private List<String> strings(String field) {
        List<String> out = new ArrayList<>();
        json.path(field).forEach(n -> out.add(n.asText()));
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return "ChatFormat[" + formatName() + (grammarText().isEmpty() ? "" : grammarLazy() ? ", lazy grammar" : ", grammar")
                + "]";
    }
}
