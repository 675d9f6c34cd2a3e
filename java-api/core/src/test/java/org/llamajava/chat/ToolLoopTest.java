package org.llamajava.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;

/**
 * An end-to-end tool loop on a small random-weight model with a tool-capable template given by
 * file: {@code tool_choice=required} makes the format's grammar force a call, whose arguments
 * validate against the tool's schema; the tool result goes back, and the next turn reuses the
 * cache. (Random weights would wander for long before a format's opening token; logit biases on
 * that token, a newline and the end of turn stand in for a trained model's habits.)
 */
class ToolLoopTest {
    static final String PARAMS = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":8},"
            + "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},\"required\":[\"city\",\"days\"],"
            + "\"additionalProperties\":false}";

    @TempDir
    static Path tmp;

    static List<String> validate(String schema, String json) {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schema, InputFormat.JSON)
                .validate(json, InputFormat.JSON).stream().map(Error::toString).toList();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"Qwen-Qwen2.5-7B-Instruct.jinja, <tool_call>, <|im_end|>",
        "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja, <tool_call>, <|im_end|>",
        "meta-llama-Llama-3.1-8B-Instruct.jinja, '{', <|eot_id|>",
        "mistralai-Mistral-Nemo-Instruct-2407.jinja, [TOOL_CALLS], <|im_end|>"})
    void requiredToolCallThenResultReusesTheCache(String templateFile, String opener, String end) throws Exception {
        Path template = TestSupport.llamaSource().resolve("models/templates/" + templateFile);
        try (Model model = Model.load(ChatModels.toolModel(tmp, true));
             Context ctx = model.createContext(ContextParams.builder().contextSize(4096).sequences(2).build())) {
            Vocabulary v = model.vocabulary();
            int[] openers = v.tokenize(opener, false, true);
            int open = openers[openers.length - 1];
            int stop = v.tokenize(end, false, true)[0];
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.jinja(Files.readString(template), model));
            Tool weather = Tool.of("get_weather", "The weather in a city for some days", PARAMS);
            chat.setOptions(ChatOptions.builder().tools(weather).toolChoice(ToolChoice.REQUIRED).build());
            int[] newlines = v.tokenize("\n", false, true);
            // the format's opening token first, then a newline (some formats open with "<tool_call>\n"); the
            // repetition penalty keeps either from repeating; the end of turn as soon as the grammar allows it
            Sampler.Builder sampling = Sampler.builder().logitBias(open, 30f).logitBias(newlines[newlines.length - 1], 25f)
                    .logitBias(stop, 40f).penalties(64, 100f, 0f, 0f).temperature(1f).dist(3);
            List<ToolCall> streamed = new ArrayList<>();
            ChatReply first = chat.send("What is the weather in Paris?", sampling, GenerateOptions.maxTokens(200),
                    new ChatStreamListener() {
                        @Override
                        public void onToolCall(ToolCall call) {
                            streamed.add(call);
                        }
                    });
            assertTrue(first.hasToolCalls(), "required: the model called a tool: " + first.completion().text());
            ToolCall call = first.message().toolCalls().get(0);
            assertEquals("get_weather", call.name());
            assertEquals(List.of(), validate(PARAMS, call.arguments()), call.arguments());
            assertEquals(first.message().toolCalls(), streamed, "the listener got the calls");
            assertFalse(call.id().isEmpty(), "calls get ids");

            chat.addToolResult(call, "{\"forecast\": \"sunny\"}");
            chat.setOptions(chat.options().toBuilder().toolChoice(ToolChoice.NONE).build());
            ChatReply second = chat.respond(Sampler.builder().greedy(), GenerateOptions.maxTokens(8), null);
            int firstPrompt = first.completion().promptTokens() + first.completion().cachedTokens();
            assertTrue(second.completion().cachedTokens() >= firstPrompt, "the second turn reuses at least the first"
                    + " prompt's " + firstPrompt + " tokens; reused " + second.completion().cachedTokens());
            assertEquals(4, chat.messages().size(), "user, assistant call, tool result, assistant");
            assertEquals(ChatMessage.TOOL, chat.messages().get(2).role());

            // the history, tool calls and results included, survives save and load
            Path saved = tmp.resolve(templateFile + ".chat");
            chat.save(saved);
            ChatSession restored = new ChatSession(ctx.newSequence(), chat.template());
            restored.load(saved);
            assertEquals(chat.messages(), restored.messages());
        }
    }
}
