package org.llamajava.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.TestSupport;

/**
 * Parsing replies in the template families of llama.cpp's {@code models/templates/} (read from
 * the pinned source) into content, reasoning and tool calls through llama.cpp's chat API, whole
 * and streamed: as {@code tests/test-chat.cpp} checks, every partial parse of a prefix only
 * extends the previous one, and the pieces add up to the final parse.
 */
class ChatParseTest {
    static final String PARAMS = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
            + "\"days\":{\"type\":\"integer\"}},\"required\":[\"city\",\"days\"]}";
    static final Tool WEATHER = Tool.of("get_weather", "The weather", PARAMS);

    static ChatTemplate template(String file) throws Exception {
        Path p = TestSupport.llamaSource().resolve("models/templates/" + file);
        return ChatTemplate.jinja(Files.readString(p), "<s>", "</s>");
    }

    static ChatMessage parse(String file, ChatOptions options, String output) throws Exception {
        ChatFormat f = template(file).apply(List.of(ChatMessage.user("What is the weather in Oslo?")), options, true);
        try (ChatParser parser = f.parser()) {
            ChatMessage whole = parser.parse(output, false);
            // streamed: each prefix's parse extends the last one's content and reasoning
            String content = "";
            String reasoning = "";
            for (int i = 1; i <= output.length(); i++) {
                if (Character.isHighSurrogate(output.charAt(i - 1))) {
                    continue;
                }
                ChatMessage m = parser.parse(output.substring(0, i), true);
                assertTrue(m.content().startsWith(content), "content went back at " + i + ": '" + content + "' -> '"
                        + m.content() + "'");
                assertTrue(m.reasoningContent().startsWith(reasoning), "reasoning went back at " + i);
                content = m.content();
                reasoning = m.reasoningContent();
            }
            assertEquals(whole.content(), content, "streamed content adds up to the whole");
            assertEquals(whole.reasoningContent(), reasoning, "streamed reasoning adds up to the whole");
            return whole;
        }
    }

    static final ChatOptions TOOLS = ChatOptions.builder().tools(WEATHER).build();

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", value = {
        "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja => 'Sure.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 2}}</tool_call>' => Sure.",
        "Qwen-Qwen2.5-7B-Instruct.jinja => '<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 2}}\n</tool_call>' => ''",
        "meta-llama-Llama-3.1-8B-Instruct.jinja => '{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 2}}' => ''",
        "mistralai-Mistral-Nemo-Instruct-2407.jinja => '[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 2}, \"id\": \"abc123def\"}]' => ''",
    })
    void toolCallsParse(String template, String output, String content) throws Exception {
        ChatMessage m = parse(template, TOOLS, output.replace("\\n", "\n"));
        assertEquals(content, m.content().strip());
        assertEquals(1, m.toolCalls().size(), m.toString());
        ToolCall call = m.toolCalls().get(0);
        assertEquals("get_weather", call.name());
        assertEquals("Oslo", call.argumentsJson().get("city").asText());
        assertEquals(2, call.argumentsJson().get("days").asInt());
        record Args(String city, int days) {}
        assertEquals(new Args("Oslo", 2), call.arguments(Args.class));
        if (template.startsWith("mistralai")) {
            assertEquals("abc123def", call.id());
        }
    }

    @Test
    void reasoningIsSeparatedAsFormatted() throws Exception {
        String r1 = "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja";
        ChatOptions deepseek = ChatOptions.builder().reasoningFormat(ReasoningFormat.DEEPSEEK).build();
        ChatMessage m = parse(r1, deepseek, "Two and two\nmake four.</think>It is 4.");
        assertEquals("Two and two\nmake four.", m.reasoningContent().strip());
        assertEquals("It is 4.", m.content());
        ChatMessage none = parse(r1, ChatOptions.builder().reasoningFormat(ReasoningFormat.NONE).build(),
                "Two and two make four.</think>It is 4.");
        assertEquals("", none.reasoningContent());
        assertTrue(none.content().contains("It is 4."), none.toString());

        ChatMessage q = parse("Qwen-Qwen3-0.6B.jinja", deepseek, "<think>\nhmm, four\n</think>\n\nIt is 4.");
        assertEquals("hmm, four", q.reasoningContent().strip());
        assertEquals("It is 4.", q.content().strip());
    }

    @Test
    void thinkingCanBeSwitchedOff() throws Exception {
        ChatTemplate t = template("Qwen-Qwen3-0.6B.jinja");
        List<ChatMessage> msgs = List.of(ChatMessage.user("Hi"));
        ChatFormat on = t.apply(msgs, ChatOptions.builder().enableThinking(true).build(), true);
        ChatFormat off = t.apply(msgs, ChatOptions.builder().enableThinking(false).build(), true);
        assertTrue(on.supportsThinking());
        assertTrue(off.prompt().contains("<think>\n\n</think>"), "thinking off: the template closes an empty think block: "
                + off.prompt());
        assertTrue(!on.prompt().contains("</think>"), on.prompt());
    }

    @Test
    void toolChoiceShapesTheGrammar() throws Exception {
        ChatTemplate t = template("Qwen-Qwen2.5-7B-Instruct.jinja");
        List<ChatMessage> msgs = List.of(ChatMessage.user("Hi"));
        ChatFormat auto = t.apply(msgs, TOOLS, true);
        assertTrue(auto.grammarLazy() && !auto.grammarTriggers().isEmpty() && auto.grammar().isLazy(), auto.toString());
        assertTrue(auto.prompt().contains("get_weather"), "the template lists the tools");
        ChatFormat required = t.apply(msgs, TOOLS.toBuilder().toolChoice(ToolChoice.REQUIRED).build(), true);
        assertTrue(!required.grammarLazy() && required.grammar() != null, required.toString());
        assertEquals(required.generationPrompt(), required.grammar().prefill());
        ChatFormat none = t.apply(msgs, TOOLS.toBuilder().toolChoice(ToolChoice.NONE).build(), true);
        assertEquals("", none.grammarText());
        Tool other = Tool.of("other", "x", "{\"type\":\"object\",\"properties\":{}}");
        ChatFormat named = t.apply(msgs, ChatOptions.builder().tools(WEATHER, other).toolChoice(ToolChoice.named("other"))
                .build(), true);
        assertTrue(named.grammarText().contains("other") && !named.grammarText().contains("get_weather"),
                named.grammarText());
    }

    @Test
    void badInputIsAClearError() throws Exception {
        // a built-in template other than chatml (which llama.cpp's chat API knows as Jinja) has no tool support
        assertThrows(IllegalStateException.class, () -> ChatTemplate.builtin("llama2").apply(List.of(ChatMessage.user("x")),
                TOOLS, true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tool.of("t", "x", "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"kaboom\"}}}"));
        assertTrue(e.getMessage().contains("parameters schema of tool t"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tool.of("t", "x", "{\"type\":\"string\"}"));
        assertThrows(IllegalArgumentException.class, () -> Tool.of("bad name", "x", null));
        assertThrows(IllegalArgumentException.class, () -> ChatOptions.builder().toolChoice(ToolChoice.REQUIRED).build());
        assertThrows(IllegalArgumentException.class, () -> ChatOptions.builder().tools(WEATHER)
                .toolChoice(ToolChoice.named("nope")).build());
        ChatFormat f = template("meta-llama-Llama-3.1-8B-Instruct.jinja").apply(List.of(ChatMessage.user("x")),
                ChatOptions.builder().tools(WEATHER).toolChoice(ToolChoice.REQUIRED).build(), true);
        try (ChatParser p = f.parser()) {
            assertTrue(p.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Os", true).content().isEmpty(),
                    "a partial call is held back, not shown as content");
            p.close();
            assertThrows(IllegalStateException.class, () -> p.parse("x", true));
        }
        List<Tool> fromJson = Tool.listFromJson("[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                + "\"description\":\"d\",\"parameters\":" + PARAMS + "}}]");
        assertEquals("get_weather", fromJson.get(0).name());
    }
}
