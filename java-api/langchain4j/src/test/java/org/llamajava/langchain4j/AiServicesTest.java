package org.llamajava.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.agent.tool.ToolSpecifications;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.service.AiServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatModels;
import org.llamajava.chat.ChatTemplate;

/**
 * LangChain4j's {@code AiServices} end to end over {@link LlamaChatModel}: a {@code @Tool} method is
 * called with arguments that validate against the schema LangChain4j derives from it, and its
 * result reaches the next turn; a record return type comes back typed through the JSON-schema
 * response format. The model has random weights: the tool call is forced ({@code tool_choice}
 * REQUIRED, on a Qwen 2.5 template) and logit biases plus a repetition penalty stand in for a
 * trained model's habits, as in core's {@code ToolLoopTest}.
 */
class AiServicesTest {
    @TempDir
    static Path tmp;

    enum City { PARIS, OSLO, LIMA }

    static final class WeatherTools {
        final List<String> calls = new ArrayList<>();

        @Tool("The weather in a city for some days")
        String weather(@P("the city") City city, @P("how many days") int days) {
            calls.add(city + "/" + days);
            return "{\"forecast\": \"sunny\", \"city\": \"" + city + "\"}";
        }
    }

    interface Assistant {
        String chat(String message);
    }

    /**
     * Forces a tool call on a user turn and forbids one after a tool result (AiServices has no
     * per-turn tool choice), and records the requests.
     */
    static final class ForcingModel implements ChatModel {
        final LlamaChatModel delegate;
        final List<ChatRequest> requests = new ArrayList<>();
        final List<ChatResponse> responses = new ArrayList<>();

        ForcingModel(LlamaChatModel delegate) {
            this.delegate = delegate;
        }

        @Override
        public ChatResponse doChat(ChatRequest request) {
            ChatMessage last = request.messages().get(request.messages().size() - 1);
            ToolChoice choice = last instanceof ToolExecutionResultMessage ? ToolChoice.NONE : ToolChoice.REQUIRED;
            ChatRequest forced = request.toBuilder().parameters(request.parameters().overrideWith(
                    ChatRequestParameters.builder().toolChoice(choice).build())).build();
            requests.add(forced);
            ChatResponse r = delegate.chat(forced);
            responses.add(r);
            return r;
        }

        @Override
        public ChatRequestParameters defaultRequestParameters() {
            return delegate.defaultRequestParameters();
        }
    }

    static List<String> validate(String schema, String json) {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schema, InputFormat.JSON)
                .validate(json, InputFormat.JSON).stream().map(Error::toString).toList();
    }

    /** A chat model for the forced tool call: the tool model, Qwen 2.5's template, biases and penalties. */
    static LlamaChatModel toolChatModel(Model model) throws Exception {
        Path template = TestSupport.llamaSource().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
        Vocabulary v = model.vocabulary();
        int[] open = v.tokenize("<tool_call>", false, true);
        int[] newlines = v.tokenize("\n", false, true);
        int stop = v.tokenize("<|im_end|>", false, true)[0];
        return LlamaChatModel.builder().model(model)
                .chatTemplate(ChatTemplate.jinja(Files.readString(template), model))
                .logitBias(open[open.length - 1], 30f).logitBias(newlines[newlines.length - 1], 25f)
                .logitBias(stop, 40f).penalties(64, 100f, 0f, 0f).temperature(1.0).minP(0).seed(3).maxTokens(200).build();
    }

    @Test
    void aToolIsCalledWithValidArgumentsAndItsResultReachesTheNextTurn() throws Exception {
        Path file = ChatModels.toolModel(tmp, true);
        try (Model model = Model.load(file); LlamaChatModel llama = toolChatModel(model)) {
            ForcingModel forcing = new ForcingModel(llama);
            WeatherTools tools = new WeatherTools();
            Assistant assistant = AiServices.builder(Assistant.class).chatModel(forcing).tools(tools).build();

            String answer = assistant.chat("What is the weather in Paris?");

            assertEquals(1, tools.calls.size(), "the tool ran once: " + tools.calls);
            assertEquals(2, forcing.requests.size(), "a forced call, then the answer");
            ToolExecutionRequest call = forcing.responses.get(0).aiMessage().toolExecutionRequests().get(0);
            assertEquals("weather", call.name());
            ToolSpecification spec = ToolSpecifications.toolSpecificationsFrom(tools).get(0);
            String schema = new ObjectMapper().writeValueAsString(JsonSchemaElementUtils.toMap(spec.parameters()));
            assertEquals(List.of(), validate(schema, call.arguments()), call.arguments());

            List<ChatMessage> second = forcing.requests.get(1).messages();
            ToolExecutionResultMessage result = (ToolExecutionResultMessage) second.get(second.size() - 1);
            assertEquals(call.id(), result.id());
            assertTrue(result.text().contains("sunny") && result.text().contains(tools.calls.get(0).split("/")[0]),
                    "the tool's result is in the next turn: " + result.text());
            assertNotNull(answer);
            assertEquals(forcing.responses.get(1).aiMessage().text(), answer, "the second turn's text is the answer");
        }
    }

    /** Required fields (LangChain4j's schema makes optional ones nullable, which a random model happily fills with null). */
    record Forecast(@JsonProperty(required = true) City city, @JsonProperty(required = true) int days,
                    @JsonProperty(required = true) boolean rain) {}

    /** Records what the model answered. */
    static final class Recording implements ChatModel {
        final LlamaChatModel delegate;
        final List<ChatRequest> requests = new ArrayList<>();
        final List<ChatResponse> responses = new ArrayList<>();

        Recording(LlamaChatModel delegate) {
            this.delegate = delegate;
        }

        @Override
        public ChatResponse doChat(ChatRequest request) {
            requests.add(request);
            ChatResponse r = delegate.chat(request);
            responses.add(r);
            return r;
        }

        @Override
        public ChatRequestParameters defaultRequestParameters() {
            return delegate.defaultRequestParameters();
        }

        @Override
        public java.util.Set<dev.langchain4j.model.chat.Capability> supportedCapabilities() {
            return delegate.supportedCapabilities();
        }
    }

    interface Forecaster {
        Forecast forecast(String text);
    }

    @Test
    void aRecordResultComesBackTyped() throws Exception {
        Path file = TestSupport.sharedModel("llama-2-tiny-random.gguf");
        try (LlamaChatModel chat = LlamaChatModel.builder().modelPath(file).temperature(1.0).minP(0).seed(7).maxTokens(200)
                .build()) {
            Recording recording = new Recording(chat);
            Forecaster forecaster = AiServices.create(Forecaster.class, recording);
            Forecast f = forecaster.forecast("Three days of rain in Oslo.");
            ChatRequest request = recording.requests.get(0);
            assertNotNull(request.responseFormat().jsonSchema(), "AiServices asked for the record's JSON schema");
            String text = recording.responses.get(0).aiMessage().text();
            String schema = new ObjectMapper().writeValueAsString(
                    JsonSchemaElementUtils.toMap(request.responseFormat().jsonSchema().rootElement()));
            assertEquals(List.of(), validate(schema, text), text);
            assertNotNull(f.city(), "the enum parsed: " + f + " from " + text);
            assertEquals(new ObjectMapper().readValue(text, Forecast.class), f, "the typed result is the model's JSON");
        }
    }
}
