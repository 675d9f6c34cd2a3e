package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatModels;
import org.llamajava.chat.ChatTemplate;

/**
 * Tool calling and JSON output through OpenAI's Java SDK: {@code tool_choice: "required"} on a
 * small model with a tool-capable template gives a call whose arguments validate against the
 * tool's schema (blocking and streamed alike), the result goes back in a second turn that reuses
 * the cache; {@code response_format} json_schema and json_object replies validate and parse, with
 * llama.cpp's chat API and with a built-in template.
 */
class ToolsAndJsonTest {
    static final String PARAMS = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":8},"
            + "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},\"required\":[\"city\",\"days\"],"
            + "\"additionalProperties\":false}";
    static final String PERSON = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},"
            + "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":120}},\"required\":[\"name\",\"age\"],"
            + "\"additionalProperties\":false}";

    @TempDir
    Path tmp;

    static List<String> validate(String schema, String json) {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schema, InputFormat.JSON)
                .validate(json, InputFormat.JSON).stream().map(Error::toString).toList();
    }

    private static Map<String, JsonValue> jsonMap(String json) throws Exception {
        Map<String, Object> m = ServerFixture.JSON.readValue(json, new TypeReference<Map<String, Object>>() {});
        Map<String, JsonValue> out = new java.util.LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, JsonValue.from(v)));
        return out;
    }

    private static OpenAIClient client(LlamaServer s) {
        return OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey("none").maxRetries(0).build();
    }

    @Test
    void aRequiredToolCallValidatesAndItsResultGoesBack() throws Exception {
        boolean shared = Files.isRegularFile(Path.of(System.getProperty("llama.models.dir", "../shared/models"),
                "llama-2-tiny-random.gguf"));
        Path template = TestSupport.llamaSource().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
        try (Model model = Model.load(ChatModels.toolModel(tmp, shared));
             LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1).slots(2)
                     .contextSize(4096).chatTemplate(ChatTemplate.jinja(Files.readString(template), model)).build())) {
            OpenAIClient client = client(s);
            try {
                Vocabulary v = model.vocabulary();
                int open = v.tokenize("<tool_call>", false, true)[0];
                int[] nl = v.tokenize("\n", false, true);
                int end = v.tokenize("<|im_end|>", false, true)[0];
                // random weights: logit biases on the format's opening token, a newline and the end of turn, and a
                // repetition penalty, stand in for a trained model's habits (as in core's ToolLoopTest)
                ChatCompletionCreateParams.LogitBias.Builder bias = ChatCompletionCreateParams.LogitBias.builder();
                bias.putAdditionalProperty(Integer.toString(open), JsonValue.from(30));
                bias.putAdditionalProperty(Integer.toString(nl[nl.length - 1]), JsonValue.from(25));
                bias.putAdditionalProperty(Integer.toString(end), JsonValue.from(40));
                FunctionDefinition weather = FunctionDefinition.builder().name("get_weather")
                        .description("The weather in a city for some days")
                        .parameters(FunctionParameters.builder().putAllAdditionalProperties(jsonMap(PARAMS)).build())
                        .build();
                ChatCompletionCreateParams first = ChatCompletionCreateParams.builder().model("any")
                        .addUserMessage("What is the weather in Paris?").addFunctionTool(weather)
                        .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).logitBias(bias.build())
                        .temperature(1.0).topP(1.0).seed(3).maxCompletionTokens(200)
                        .putAdditionalBodyProperty("top_k", JsonValue.from(0))
                        .putAdditionalBodyProperty("min_p", JsonValue.from(0))
                        .putAdditionalBodyProperty("repeat_penalty", JsonValue.from(100)).build();

                ChatCompletion c = client.chat().completions().create(first);
                ChatCompletion.Choice choice = c.choices().get(0);
                assertEquals("tool_calls", choice.finishReason().asString(), c.toString());
                ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
                assertEquals("get_weather", call.function().name());
                assertEquals(List.of(), validate(PARAMS, call.function().arguments()), call.function().arguments());
                assertFalse(call.id().isEmpty(), "calls get ids");

                ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
                try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(first)) {
                    stream.stream().forEach(acc::accumulate);
                }
                ChatCompletion streamed = acc.chatCompletion();
                ChatCompletionMessageFunctionToolCall streamedCall = streamed.choices().get(0).message().toolCalls()
                        .orElseThrow().get(0).asFunction();
                assertEquals(call.function().name(), streamedCall.function().name());
                assertEquals(call.function().arguments(), streamedCall.function().arguments(),
                        "the same seed streamed gives the same call");
                assertEquals("tool_calls", streamed.choices().get(0).finishReason().asString());

                ChatCompletion second = client.chat().completions().create(ChatCompletionCreateParams.builder()
                        .model("any").addUserMessage("What is the weather in Paris?").addFunctionTool(weather)
                        .addMessage(choice.message())
                        .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id())
                                .content("{\"forecast\": \"sunny\"}").build())
                        .toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).temperature(0.0).maxCompletionTokens(8)
                        .build());
                long firstPrompt = c.usage().orElseThrow().promptTokens();
                long cached = second.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens()
                        .orElseThrow();
                assertTrue(cached >= firstPrompt, "the second turn reuses the first prompt's " + firstPrompt
                        + " tokens; reused " + cached);
            } finally {
                client.close();
            }
        }
    }

    /**
     * Core's one template rule, through the server: the built-in chatml goes through llama.cpp's chat
     * API, so a request with tools is answered as the adapters answer it (llama.cpp's chatml source
     * renders no tools: the prompt is the plain chat's, the reply plain content); another built-in
     * template is refused for tools with the reason, and works for plain chats.
     */
    @Test
    void theBuiltinChatmlTakesToolRequestsAndAnotherBuiltinSaysWhyNot() throws Exception {
        FunctionDefinition weather = FunctionDefinition.builder().name("get_weather")
                .description("The weather in a city for some days")
                .parameters(FunctionParameters.builder().putAllAdditionalProperties(jsonMap(PARAMS)).build()).build();
        try (Model model = Model.load(ServerFixture.generationModel(tmp))) {
            try (LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1).slots(1)
                    .contextSize(2048).chatTemplate(ChatTemplate.builtin("chatml")).build())) {
                OpenAIClient client = client(s);
                try {
                    ChatCompletion withTools = client.chat().completions().create(ChatCompletionCreateParams.builder()
                            .model("any").addUserMessage("What is the weather in Paris?").addFunctionTool(weather)
                            .temperature(0.0).maxCompletionTokens(8).build());
                    ChatCompletion plain = client.chat().completions().create(ChatCompletionCreateParams.builder()
                            .model("any").addUserMessage("What is the weather in Paris?")
                            .temperature(0.0).maxCompletionTokens(8).build());
                    assertEquals(plain.usage().orElseThrow().promptTokens(), withTools.usage().orElseThrow().promptTokens(),
                            "chatml renders no tools");
                    assertEquals(plain.choices().get(0).message().content(), withTools.choices().get(0).message().content());
                    assertEquals("length", withTools.choices().get(0).finishReason().asString());
                } finally {
                    client.close();
                }
            }
            try (LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1).slots(1)
                    .contextSize(2048).chatTemplate(ChatTemplate.builtin("llama2")).build())) {
                java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.baseUrl() + "/v1/chat/completions"))
                                .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers
                                        .ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                                                + "\"parameters\":{\"type\":\"object\"}}}],\"max_tokens\":4}")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(400, r.statusCode(), r.body());
                assertTrue(r.body().contains("plain chats only") && r.body().contains("chatml"), r.body());
                java.net.http.HttpResponse<String> plain = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.baseUrl() + "/v1/chat/completions"))
                                .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers
                                        .ofString("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                                + "\"max_tokens\":4}")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(200, plain.statusCode(), "a plain chat works with it: " + plain.body());
            }
        }
    }

    @Test
    void jsonSchemaAndJsonObjectRepliesValidate() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp))) {
            for (ChatTemplate template : List.of(ChatTemplate.builtin("chatml"), ChatTemplate.of(model))) {
                try (LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1).slots(2)
                        .contextSize(2048).chatTemplate(template).build())) {
                    OpenAIClient client = client(s);
                    try {
                        ResponseFormatJsonSchema schema = ResponseFormatJsonSchema.builder().jsonSchema(
                                ResponseFormatJsonSchema.JsonSchema.builder().name("person").strict(true)
                                        .schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                                                .putAllAdditionalProperties(jsonMap(PERSON)).build()).build()).build();
                        for (int seed = 1; seed <= 3; seed++) {
                            ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                                    .model("any").addUserMessage("Describe a person.").responseFormat(schema)
                                    .temperature(0.8).seed(seed).maxCompletionTokens(300).build());
                            String content = c.choices().get(0).message().content().orElseThrow();
                            assertEquals(List.of(), validate(PERSON, content), template + ", seed " + seed + ": " + content);
                            assertEquals("stop", c.choices().get(0).finishReason().asString());
                        }
                        ChatCompletion o = client.chat().completions().create(ChatCompletionCreateParams.builder()
                                .model("any").addUserMessage("Describe a person.")
                                .responseFormat(ResponseFormatJsonObject.builder().build()).temperature(0.8).seed(5)
                                .maxCompletionTokens(300).build());
                        String content = o.choices().get(0).message().content().orElseThrow();
                        assertTrue(ServerFixture.JSON.readTree(content).isObject(), template + ": " + content);
                    } finally {
                        client.close();
                    }
                }
            }
        }
    }
}
