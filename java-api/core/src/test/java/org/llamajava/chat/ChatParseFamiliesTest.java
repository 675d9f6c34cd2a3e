package org.llamajava.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llamajava.TestSupport;

/**
 * Tool-call and reasoning parsing for the template families of llama.cpp's
 * {@code models/templates/} beyond those in {@link ChatParseTest}, with the inputs and
 * expectations of the pinned source's {@code tests/test-chat.cpp} (its {@code special_function}
 * tool, its user message, its reasoning format and thinking switch for each case). Each reply is
 * parsed whole and streamed, as test-chat.cpp does: every prefix is parsed as partial, and
 * content, reasoning and each call's name and arguments only grow, adding up to the whole parse.
 * Content and reasoning are compared without leading and trailing whitespace, as test-chat.cpp
 * compares them.
 */
class ChatParseFamiliesTest {
    static final Tool SPECIAL = Tool.of("special_function", "I'm special",
            "{\"type\":\"object\",\"properties\":{\"arg1\":{\"type\":\"integer\",\"description\":\"The arg.\"}},"
                    + "\"required\":[\"arg1\"]}");
    static final Tool SPECIAL_OPT = Tool.of("special_function_with_opt", "I'm special but have optional stuff",
            "{\"type\":\"object\",\"properties\":{\"arg1\":{\"type\":\"integer\",\"description\":\"The arg.\"},"
                    + "\"arg2\":{\"type\":\"integer\",\"description\":\"The optional arg.\"}},\"required\":[\"arg1\"]}");
    static final Tool GET_TIME = Tool.of("get_time", "Get the current time in a city",
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"description\":\"City name\"}},"
                    + "\"required\":[\"city\"]}");
    static final Tool EMPTY_ARGS = Tool.of("empty_args", "A tool that takes no arguments",
            "{\"type\":\"object\",\"properties\":{}}");
    static final String HELLO = "Hello, world!\nWhat's up?";
    static final String THINKING = "I'm\nthinking";
    static final ToolCall CALL = new ToolCall("special_function", "{\"arg1\": 1}", "");
    static final ObjectMapper JSON = new ObjectMapper();

    /** One case: the reply, the options it is parsed under, and the message expected. */
    record Case(String template, String input, ReasoningFormat format, boolean thinking, List<Tool> tools,
            String content, String reasoning, List<ToolCall> calls) {
        @Override
        public String toString() {
            String shown = input.replace("\n", "\\n");
            return template.replace(".jinja", "") + ": " + (shown.length() > 60 ? shown.substring(0, 60) + "..." : shown);
        }
    }

    static Case content(String template, String input, String content) {
        return new Case(template, input, ReasoningFormat.NONE, true, List.of(), content, "", List.of());
    }

    static Case call(String template, String input, ReasoningFormat format, boolean thinking, String reasoning,
            ToolCall... calls) {
        return new Case(template, input, format, thinking, List.of(SPECIAL), "", reasoning, List.of(calls));
    }

    static Case call(String template, String input) {
        return call(template, input, ReasoningFormat.NONE, true, "", CALL);
    }

    static Case thoughts(String template, String input, ReasoningFormat format, String content, String reasoning) {
        return new Case(template, input, format, true, List.of(), content, reasoning, List.of());
    }

    static Stream<Case> cases() {
        String cr7b = "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja";
        String crPlus = "CohereForAI-c4ai-command-r-plus-tool_use.jinja";
        String f31 = "meetkai-functionary-medium-v3.1.jinja";
        String f32 = "meetkai-functionary-medium-v3.2.jinja";
        String seed = "ByteDance-Seed-OSS.jinja";
        String gptOss = "openai-gpt-oss-120b.jinja";
        String minimax = "MiniMax-M2.jinja";
        String nemotron3 = "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.jinja";
        String qwenXml = "<tool_call>\n<function=special_function>\n<parameter=arg1>\n1\n</parameter>\n</function>\n</tool_call>";
        return Stream.of(
                // Command R7B: response, thinking and action blocks
                content(cr7b, "<|START_RESPONSE|>" + HELLO + "<|END_RESPONSE|>", HELLO),
                call(cr7b, "<|START_THINKING|>I'm\nthinking<|END_THINKING|><|START_ACTION|>[\n"
                        + "    {\"tool_call_id\": \"0\", \"tool_name\": \"special_function\", \"parameters\": {\"arg1\": 1}}\n"
                        + "]<|END_ACTION|>", ReasoningFormat.DEEPSEEK, true, THINKING,
                        new ToolCall("special_function", "{\"arg1\": 1}", "0")),
                // Command R+: an Action block of JSON
                content(crPlus, "<|CHATBOT_TOKEN|>" + HELLO + "<|END_OF_TURN_TOKEN|>", HELLO),
                call(crPlus, "Action:\n```json\n[{\"tool_name\": \"special_function\", \"parameters\": {\"arg1\": 1}}]\n```"),
                // Functionary v3.1 (<function=...>) and v3.2 (recipient lines)
                content(f31, HELLO, HELLO),
                call(f31, "<function=special_function>{\"arg1\": 1}</function>"),
                content(f32, "all\n" + HELLO, HELLO),
                call(f32, "special_function\n{\"arg1\": 1}"),
                // Firefunction v2
                content("fireworks-ai-llama-3-firefunction-v2.jinja", HELLO, HELLO),
                call("fireworks-ai-llama-3-firefunction-v2.jinja",
                        " functools[{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}]"),
                // Granite 3.3 (think tags), 4.0 and 4.1 (tool_call tags)
                content("ibm-granite-granite-3.3-2B-Instruct.jinja", HELLO, HELLO),
                thoughts("ibm-granite-granite-3.3-2B-Instruct.jinja", "<think>I'm\nthinking</think>" + HELLO,
                        ReasoningFormat.DEEPSEEK, HELLO, THINKING),
                call("ibm-granite-granite-4.0.jinja",
                        "<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n</tool_call>"),
                call("ibm-granite-granite-4.1.jinja",
                        "<tool_call>\n{\"name\": \"special_function\", \"arguments\": {\"arg1\": 1}}\n</tool_call>"),
                // ByteDance Seed-OSS: seed:think and XML-style calls, parallel
                thoughts(seed, "<seed:think>I'm thinking about the answer</seed:think>\nHello, world!",
                        ReasoningFormat.DEEPSEEK, "Hello, world!", "I'm thinking about the answer"),
                call(seed, "<seed:tool_call>\n<function=special_function>\n<parameter=arg1>1</parameter>\n</function>\n"
                        + "</seed:tool_call>"),
                new Case(seed, "<seed:tool_call>\n<function=special_function>\n<parameter=arg1>1</parameter>\n</function>\n"
                        + "</seed:tool_call>\n<seed:tool_call>\n<function=special_function_with_opt>\n"
                        + "<parameter=arg1>1</parameter>\n<parameter=arg2>2</parameter>\n</function>\n</seed:tool_call>",
                        ReasoningFormat.NONE, true, List.of(SPECIAL, SPECIAL_OPT), "", "",
                        List.of(CALL, new ToolCall("special_function_with_opt", "{\"arg1\": 1, \"arg2\": 2}", ""))),
                // GPT-OSS: channels
                content(gptOss, "<|channel|>final<|message|>" + HELLO, HELLO),
                content(gptOss, "<|channel|>commentary<|message|>" + HELLO, HELLO),
                thoughts(gptOss, "<|channel|>analysis<|message|>I'm\nthinking<|end|><|start|>assistant<|channel|>final"
                        + "<|message|>" + HELLO, ReasoningFormat.AUTO, HELLO, THINKING),
                thoughts(gptOss, "<|channel|>analysis<|message|>I'm\nthinking<|end|><|start|>assistant<|channel|>final"
                        + "<|message|>" + HELLO, ReasoningFormat.NONE,
                        "<|channel|>analysis<|message|>I'm\nthinking<|end|>" + HELLO, ""),
                call(gptOss, " to=functions.special_function<|channel|>analysis<|message|>{\"arg1\": 1}",
                        ReasoningFormat.AUTO, true, "", CALL),
                call(gptOss, "<|channel|>analysis to=functions.special_function<|message|>{\"arg1\": 1}",
                        ReasoningFormat.AUTO, true, "", CALL),
                // Kimi K2: ids from the call header
                content("moonshotai-Kimi-K2.jinja", HELLO, HELLO),
                call("moonshotai-Kimi-K2.jinja", "<|tool_calls_section_begin|><|tool_call_begin|>functions.special_function:0"
                        + "<|tool_call_argument_begin|>{\"arg1\": 1}<|tool_call_end|><|tool_calls_section_end|>",
                        ReasoningFormat.NONE, true, "", new ToolCall("special_function", "{\"arg1\": 1}",
                                "functions.special_function:0")),
                call("Kimi-K2-Instruct.jinja", "<|tool_calls_section_begin|><|tool_call_begin|>functions.special_function:0"
                        + "<|tool_call_argument_begin|>{\"arg1\": 1}<|tool_call_end|><|tool_calls_section_end|>",
                        ReasoningFormat.NONE, true, "", new ToolCall("special_function", "{\"arg1\": 1}",
                                "functions.special_function:0")),
                // DeepSeek V3.1, thinking off
                new Case("deepseek-ai-DeepSeek-V3.1.jinja", "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>"
                        + "{\"city\": \"XYZCITY\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>", ReasoningFormat.DEEPSEEK, false,
                        List.of(GET_TIME), "", "", List.of(new ToolCall("get_time", "{\"city\":\"XYZCITY\"}", ""))),
                // Qwen3-Coder: XML parameters, with and without the opening tag
                content("Qwen3-Coder.jinja", HELLO, HELLO),
                call("Qwen3-Coder.jinja", qwenXml),
                call("Qwen3-Coder.jinja", qwenXml.substring("<tool_call>\n".length())),
                // GLM 4.6: arg_key / arg_value
                call("GLM-4.6.jinja", "<tool_call>special_function\n<arg_key>arg1</arg_key>\n<arg_value>1</arg_value>\n"
                        + "</tool_call>"),
                // MiniMax M2: forced-open thinking and invoke blocks
                thoughts(minimax, "\n</think>\n\n" + HELLO, ReasoningFormat.AUTO, HELLO, ""),
                thoughts(minimax, "I'm\nthinking\n</think>\n\n" + HELLO, ReasoningFormat.AUTO, HELLO, THINKING),
                new Case(minimax, "Let's call a tool:\n</think>\n\n<minimax:tool_call>\n<invoke name=\"empty_args\">\n"
                        + "</invoke>\n</minimax:tool_call>", ReasoningFormat.AUTO, true, List.of(EMPTY_ARGS), "",
                        "Let's call a tool:", List.of(new ToolCall("empty_args", "{}", ""))),
                call(minimax, "\n</think>\n\n<minimax:tool_call>\n<invoke name=\"special_function\">\n<parameter "
                        + "name=\"arg1\">1</parameter>\n</invoke>\n</minimax:tool_call>", ReasoningFormat.DEEPSEEK, true, "",
                        CALL),
                // Nemotron 3 Nano and Nano v2
                new Case(nemotron3, HELLO, ReasoningFormat.AUTO, false, List.of(), HELLO, "", List.of()),
                thoughts(nemotron3, "I'm\nthinking\n</think>\n" + HELLO, ReasoningFormat.NONE,
                        "<think>\nI'm\nthinking\n</think>\n" + HELLO, ""),
                thoughts(nemotron3, "I'm\nthinking\n</think>\n" + HELLO, ReasoningFormat.AUTO, HELLO, THINKING),
                call(nemotron3, qwenXml + "\n", ReasoningFormat.AUTO, false, "", CALL),
                call("NVIDIA-Nemotron-Nano-v2.jinja", "I'm\nthinking\n</think>\n<TOOLCALL>[{\"name\": \"special_function\", "
                        + "\"arguments\": {\"arg1\": 1}}]</TOOLCALL>", ReasoningFormat.AUTO, true, THINKING, CALL));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void parsesAsTestChatExpects(Case c) throws Exception {
        Path p = TestSupport.llamaSource().resolve("models/templates/" + c.template());
        ChatTemplate t = ChatTemplate.jinja(Files.readString(p), "<s>", "</s>");
        ChatOptions.Builder o = ChatOptions.builder().reasoningFormat(c.format()).enableThinking(c.thinking());
        if (!c.tools().isEmpty()) {
            o.tools(c.tools()).parallelToolCalls(c.calls().size() > 1);
        }
        ChatFormat f = t.apply(List.of(ChatMessage.user("Hey there!")), o.build(), true);
        try (ChatParser parser = f.parser()) {
            ChatMessage whole = parser.parse(c.input(), false);
            // compared as test-chat.cpp's assert_msg_equals does: leading and trailing whitespace aside
            assertEquals(c.content().strip(), whole.content().strip(), "content");
            assertEquals(c.reasoning().strip(), whole.reasoningContent().strip(), "reasoning");
            assertCalls(c.calls(), whole.toolCalls());
            // streamed: every partial parse of a prefix only extends the previous one
            ChatMessage prev = ChatMessage.assistant("");
            for (int i = 1; i < c.input().length(); i++) {
                if (Character.isHighSurrogate(c.input().charAt(i - 1))) {
                    continue;
                }
                ChatMessage m = parser.parse(c.input().substring(0, i), true);
                assertGrows(prev, m, i);
                prev = m;
            }
            assertGrows(prev, whole, c.input().length());
        }
    }

    static void assertCalls(List<ToolCall> expected, List<ToolCall> actual) throws Exception {
        assertEquals(expected.size(), actual.size(), () -> "tool calls: " + actual);
        for (int i = 0; i < expected.size(); i++) {
            ToolCall e = expected.get(i);
            ToolCall a = actual.get(i);
            assertEquals(e.name(), a.name());
            assertEquals(JSON.readTree(e.arguments()), JSON.readTree(a.arguments()), "arguments of " + e.name());
            if (!e.id().isEmpty()) {
                assertEquals(e.id(), a.id(), "id of " + e.name());
            }
        }
    }

    static void assertGrows(ChatMessage prev, ChatMessage next, int at) {
        String where = " at " + at + ": " + prev + " -> " + next;
        assertTrue(next.content().startsWith(prev.content()), "content went back" + where);
        assertTrue(next.reasoningContent().startsWith(prev.reasoningContent()), "reasoning went back" + where);
        assertTrue(next.toolCalls().size() >= prev.toolCalls().size(), "a tool call went away" + where);
        List<ToolCall> before = new ArrayList<>(prev.toolCalls());
        for (int i = 0; i < before.size(); i++) {
            ToolCall a = before.get(i);
            ToolCall b = next.toolCalls().get(i);
            assertTrue(a.name().isEmpty() || a.name().equals(b.name()), "a call's name changed" + where);
            assertTrue(b.arguments().startsWith(a.arguments()), "a call's arguments went back" + where);
        }
    }
}
