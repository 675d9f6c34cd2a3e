package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolChoiceAny;
import com.anthropic.models.messages.ToolChoiceNone;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.fasterxml.jackson.core.type.TypeReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatModels;
import org.llamajava.chat.ChatTemplate;

/**
 * Anthropic's own Java SDK against {@code /v1/messages}: a blocking and a streamed message give
 * the text llama-java's Java API gives for the same chat, {@code count_tokens} counts the
 * rendered prompt's tokens, a required tool call comes back as a {@code tool_use} block whose
 * input validates and its {@code tool_result} goes back, and a wrong key is the SDK's
 * {@link UnauthorizedException}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AnthropicSdkTest {
    private static final String KEY = "anthropic-key";
    private static final ChatTemplate CHATML = ChatTemplate.builtin("chatml");
    private static final String SYSTEM = "You tell stories.";

    @TempDir
    Path tmp;
    private Model model;
    private LlamaServer server;
    private AnthropicClient client;

    @BeforeAll
    void start() {
        model = Model.load(ServerFixture.generationModel(tmp));
        server = LlamaServer.start(model, ServerFixture.config(KEY).build());
        client = AnthropicOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey(KEY).maxRetries(0).build();
    }

    @AfterAll
    void stop() {
        client.close();
        server.close();
        model.close();
    }

    private static MessageCreateParams message(String user, int maxTokens) {
        return MessageCreateParams.builder().model("claude-sonnet-4-5").system(SYSTEM).addUserMessage(user)
                .putAdditionalBodyProperty("temperature", JsonValue.from(0.0)).maxTokens(maxTokens).build();
    }

    private List<ChatMessage> chat(String user) {
        return List.of(ChatMessage.system(SYSTEM), ChatMessage.user(user));
    }

    @Test
    void aMessageIsTheJavaApisGreedyReply() {
        Message m = client.messages().create(message("Once upon a time", 24));
        String expected = ServerFixture.greedyChat(model, CHATML, chat("Once upon a time"), 24).text();
        assertEquals(1, m.content().size(), m.toString());
        assertEquals(expected, m.content().get(0).asText().text());
        assertEquals(StopReason.MAX_TOKENS, m.stopReason().orElseThrow());
        assertEquals(24, m.usage().outputTokens());
        assertEquals(promptTokens(chat("Once upon a time")), m.usage().inputTokens()
                + m.usage().cacheReadInputTokens().orElse(0L));
    }

    @Test
    void aStreamedMessageAccumulatesToTheSameReply() {
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(message("The dog", 16))) {
            stream.stream().forEach(acc::accumulate);
        }
        Message m = acc.message();
        String expected = ServerFixture.greedyChat(model, CHATML, chat("The dog"), 16).text();
        assertEquals(expected, m.content().get(0).asText().text());
        assertEquals(StopReason.MAX_TOKENS, m.stopReason().orElseThrow());
        assertEquals(16, m.usage().outputTokens());
    }

    @Test
    void countTokensCountsTheRenderedPrompt() {
        long n = client.messages().countTokens(MessageCountTokensParams.builder().model("claude-sonnet-4-5")
                .system(SYSTEM).addUserMessage("How many tokens is this?").build()).inputTokens();
        assertEquals(promptTokens(chat("How many tokens is this?")), n);
    }

    @Test
    void aWrongKeyIsTheSdksAuthenticationError() {
        AnthropicClient wrong = AnthropicOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("nope")
                .maxRetries(0).build();
        try {
            assertThrows(UnauthorizedException.class, () -> wrong.messages().create(message("Hi", 4)));
        } finally {
            wrong.close();
        }
    }

    /** The chat's prompt tokens, rendered and tokenized as the Java API does (the oracle). */
    private int promptTokens(List<ChatMessage> messages) {
        String prompt = CHATML.render(messages, true);
        Vocabulary v = model.vocabulary();
        boolean bos = v.addsBos() && v.bos() != Vocabulary.NO_TOKEN && !prompt.startsWith(v.tokenPiece(v.bos()));
        return v.tokenize(prompt, bos, true).length;
    }

    /**
     * A required tool ({@code tool_choice: any}) on a model with a tool-capable template: the reply
     * is a {@code tool_use} block with a schema-valid input and stop reason {@code tool_use}; its
     * {@code tool_result} goes back in a second turn, which is answered with text.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aRequiredToolUseValidatesAndItsResultGoesBack() throws Exception {
        boolean shared = Files.isRegularFile(Path.of(System.getProperty("llama.models.dir", "../shared/models"),
                "llama-2-tiny-random.gguf"));
        Path template = TestSupport.llamaSource().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
        try (Model toolModel = Model.load(ChatModels.toolModel(tmp, shared));
             LlamaServer s = LlamaServer.start(toolModel, ServerConfig.builder().port(0).threads(1).slots(1)
                     .contextSize(4096).chatTemplate(ChatTemplate.jinja(Files.readString(template), toolModel)).build())) {
            AnthropicClient c = AnthropicOkHttpClient.builder().baseUrl(s.baseUrl()).apiKey("none").maxRetries(0).build();
            try {
            Vocabulary v = toolModel.vocabulary();
            int open = v.tokenize("<tool_call>", false, true)[0];
            int[] nl = v.tokenize("\n", false, true);
            int end = v.tokenize("<|im_end|>", false, true)[0];
            // random weights: logit biases and a repetition penalty stand in for a trained model's habits (as in
            // ToolsAndJsonTest), passed through as llama-server passes its own fields
            Map<String, Object> schema = ServerFixture.JSON.readValue(ToolsAndJsonTest.PARAMS,
                    new TypeReference<Map<String, Object>>() {});
            Tool.InputSchema.Builder input = Tool.InputSchema.builder()
                    .required(List.of("city", "days"));
            Tool.InputSchema.Properties.Builder props = Tool.InputSchema.Properties.builder();
            ((Map<String, Object>) schema.get("properties")).forEach((k, val) -> props.putAdditionalProperty(k,
                    JsonValue.from(val)));
            input.properties(props.build()).putAdditionalProperty("additionalProperties", JsonValue.from(false));
            Tool weather = Tool.builder().name("get_weather").description("The weather in a city for some days")
                    .inputSchema(input.build()).build();
            MessageCreateParams first = MessageCreateParams.builder().model("any").maxTokens(200)
                    .addUserMessage("What is the weather in Paris?").addTool(weather)
                    .toolChoice(ToolChoiceAny.builder().build())
                    .putAdditionalBodyProperty("temperature", JsonValue.from(1.0))
                    .putAdditionalBodyProperty("top_p", JsonValue.from(1.0))
                    .putAdditionalBodyProperty("seed", JsonValue.from(3))
                    .putAdditionalBodyProperty("top_k", JsonValue.from(0))
                    .putAdditionalBodyProperty("min_p", JsonValue.from(0))
                    .putAdditionalBodyProperty("repeat_penalty", JsonValue.from(100))
                    .putAdditionalBodyProperty("logit_bias", JsonValue.from(Map.of(Integer.toString(open), 30,
                            Integer.toString(nl[nl.length - 1]), 25, Integer.toString(end), 40)))
                    .build();
            Message m = c.messages().create(first);
            assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow(), m.toString());
            ToolUseBlock use = m.content().stream().filter(ContentBlock::isToolUse).map(ContentBlock::asToolUse)
                    .findFirst().orElseThrow();
            assertEquals("get_weather", use.name());
            assertFalse(use.id().isEmpty(), "tool uses get ids");
            String arguments = ServerFixture.JSON.writeValueAsString(use._input().convert(Object.class));
            assertEquals(List.of(), ToolsAndJsonTest.validate(ToolsAndJsonTest.PARAMS, arguments), arguments);

            Message second = c.messages().create(MessageCreateParams.builder().model("any").maxTokens(8)
                    .addUserMessage("What is the weather in Paris?").addTool(weather).addMessage(m)
                    .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam.builder()
                            .toolUseId(use.id()).content("{\"forecast\": \"sunny\"}").build())))
                    .toolChoice(ToolChoiceNone.builder().build())
                    .putAdditionalBodyProperty("temperature", JsonValue.from(0.0)).build());
            assertTrue(second.content().get(0).isText(), second.toString());
            assertTrue(second.usage().cacheReadInputTokens().orElse(0L) > 0,
                    "the second turn reuses the first's cached prompt: " + second.usage());
            } finally {
                c.close();
            }
        }
    }
}
