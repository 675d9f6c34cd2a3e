package org.llamajava.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
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
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.support.ToolCallbacks;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Tool calling through Spring AI (a forced call on a random-weight model with Qwen 2.5's template:
 * arguments that validate against the tool's schema, its result in the next turn), the models
 * closing with the application context over 20 restarts, and bad configuration failing startup with
 * an error naming the property.
 */
class SpringAiToolsAndLifecycleTest {
    @TempDir
    static Path tmp;

    enum City { PARIS, OSLO, LIMA }

    static final class WeatherTools {
        final List<String> calls = new ArrayList<>();

        @Tool(description = "The weather in a city for some days")
        String weather(@ToolParam(description = "the city") City city, @ToolParam(description = "days") int days) {
            calls.add(city + "/" + days);
            return "{\"forecast\": \"sunny\", \"city\": \"" + city + "\"}";
        }
    }

    /** Records the arguments each call gets, then runs the tool. */
    record Recording(ToolCallback delegate, List<String> arguments) implements ToolCallback {
        @Override
        public ToolDefinition getToolDefinition() {
            return delegate.getToolDefinition();
        }

        @Override
        public String call(String toolInput) {
            arguments.add(toolInput);
            return delegate.call(toolInput);
        }
    }

    static ConfigurableApplicationContext start(String... properties) {
        return new SpringApplicationBuilder(TestApp.class).properties(properties).run();
    }

    static List<String> validate(String schema, String json) {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schema, InputFormat.JSON)
                .validate(json, InputFormat.JSON).stream().map(Error::toString).toList();
    }

    /** Options that force a call on random weights: the format's opener, a newline and the end of turn biased, repeats penalised. */
    static LlamaJavaChatOptions.Builder forcing(Model model) {
        Vocabulary v = model.vocabulary();
        int[] open = v.tokenize("<tool_call>", false, true);
        int[] newlines = v.tokenize("\n", false, true);
        int stop = v.tokenize("<|im_end|>", false, true)[0];
        return LlamaJavaChatOptions.builder().toolChoice(LlamaJavaChatOptions.REQUIRED)
                .logitBias(open[open.length - 1], 30f).logitBias(newlines[newlines.length - 1], 25f).logitBias(stop, 40f)
                .repeatPenalty(64, 100).temperature(1.0).minP(0.0).seed(3L).maxTokens(200);
    }

    @Test
    void aForcedToolCallRunsWithValidArgumentsAndItsResultReachesTheNextTurn() throws Exception {
        Path model = ChatModels.toolModel(tmp, true);
        Path template = TestSupport.llamaSource().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
        try (ConfigurableApplicationContext ctx = start("spring.ai.llamajava.chat.model=" + model,
                "spring.ai.llamajava.chat.chat-template=" + template, "spring.ai.llamajava.chat.context-size=2048")) {
            LlamaJavaChatModel chat = ctx.getBean(LlamaJavaChatModel.class);
            WeatherTools tools = new WeatherTools();
            List<String> arguments = new ArrayList<>();
            ToolCallback weather = new Recording(ToolCallbacks.from(tools)[0], arguments);
            String schema = weather.getToolDefinition().inputSchema();

            // Spring AI runs the tool inside call() and sends its result back; required gives way to auto then
            String answer = ctx.getBean(ChatClient.Builder.class).build().prompt("What is the weather in Paris?")
                    .options(forcing(chat.model()).build()).toolCallbacks(weather).call().content();
            assertEquals(1, tools.calls.size(), "the tool ran once: " + tools.calls);
            assertEquals(List.of(), validate(schema, arguments.get(0)), arguments.get(0));
            assertNotNull(answer);

            // streaming: the tool runs inside the stream, and the model's next reply follows in it
            List<String> pieces = ctx.getBean(ChatClient.Builder.class).build().prompt("What is the weather in Lima?")
                    .options(forcing(chat.model()).build()).toolCallbacks(weather).stream().content()
                    .collectList().block();
            assertEquals(2, tools.calls.size(), "the tool ran once more, in the stream: " + tools.calls);
            assertEquals(List.of(), validate(schema, arguments.get(1)), arguments.get(1));
            assertNotNull(pieces);

            // the same loop by hand (user-controlled tool execution): the result is in the next turn's messages
            LlamaJavaChatOptions manual = forcing(chat.model()).toolCallbacks(weather)
                    .internalToolExecutionEnabled(false).build();
            Prompt prompt = new Prompt(List.of(new UserMessage("What is the weather in Oslo?")), manual);
            ChatResponse first = chat.call(prompt);
            AssistantMessage call = first.getResult().getOutput();
            assertTrue(call.hasToolCalls(), "required: a tool call");
            assertEquals("weather", call.getToolCalls().get(0).name());
            assertEquals(List.of(), validate(schema, call.getToolCalls().get(0).arguments()));
            assertEquals("TOOL_CALLS", first.getResult().getMetadata().getFinishReason());
            ToolExecutionResult result = ToolCallingManager.builder().build().executeToolCalls(prompt, first);
            List<Message> history = result.conversationHistory();
            ToolResponseMessage response = assertInstanceOf(ToolResponseMessage.class, history.get(history.size() - 1));
            assertTrue(response.getResponses().get(0).responseData().contains("sunny"));
            LlamaJavaChatOptions after = manual.copy();
            after.setToolChoice(LlamaJavaChatOptions.NONE);
            after.setLogitBias(null); // as core's ToolLoopTest: the answer greedy, without the stand-in biases
            after.setTemperature(0.0);
            after.setMaxTokens(8);
            ChatResponse second = chat.call(new Prompt(history, after));
            assertFalse(second.getResult().getOutput().hasToolCalls(), "tool choice none: an answer");
            assertTrue(second.getMetadata().getUsage().getPromptTokens() > first.getMetadata().getUsage().getPromptTokens(),
                    "the second turn's prompt holds the call and its result");
        }
    }

    @Test
    void theModelsCloseWithTheContextAcrossTwentyRestarts() {
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        List<Model> seen = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Model chat;
            Model embedding;
            try (ConfigurableApplicationContext ctx = start("spring.ai.llamajava.chat.model=" + stories,
                    "spring.ai.llamajava.chat.context-size=256", "spring.ai.llamajava.embedding.model=" + minilm)) {
                chat = ctx.getBean(LlamaJavaChatModel.class).model();
                embedding = ctx.getBean(LlamaJavaEmbeddingModel.class).model();
                assertFalse(chat.isClosed() || embedding.isClosed());
                assertEquals(384, ctx.getBean(LlamaJavaEmbeddingModel.class).embed("hi").length);
            }
            seen.add(chat);
            seen.add(embedding);
            for (Model m : seen) {
                assertTrue(m.isClosed(), "restart " + i + ": a model of an earlier context is still open: " + m);
            }
        }
        assertEquals(40, seen.stream().distinct().count(), "each context loaded its own models");
    }

    /** The root cause of a failed startup. */
    static Throwable startupFailure(String... properties) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> start(properties).close());
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static String messages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c.getMessage()).append('\n');
        }
        return b.toString();
    }

    @Test
    void badConfigurationFailsStartupNamingTheProperty() throws Exception {
        Throwable missing = startupFailure("spring.ai.llamajava.chat.model=" + tmp.resolve("no-such-model.gguf"));
        assertInstanceOf(InvalidConfigurationPropertyValueException.class, missing);
        assertTrue(missing.getMessage().contains("spring.ai.llamajava.chat.model") && missing.getMessage()
                .contains("no such file"), missing.getMessage());

        Path text = Files.writeString(tmp.resolve("not-a-model.gguf"), "hello, not GGUF");
        Throwable notGguf = startupFailure("spring.ai.llamajava.embedding.model=" + text);
        assertInstanceOf(InvalidConfigurationPropertyValueException.class, notGguf);
        assertTrue(notGguf.getMessage().contains("spring.ai.llamajava.embedding.model"), notGguf.getMessage());

        RuntimeException wrongType = assertThrows(RuntimeException.class,
                () -> start("spring.ai.llamajava.chat.model=" + text, "spring.ai.llamajava.chat.context-size=lots").close());
        assertTrue(messages(wrongType).contains("spring.ai.llamajava.chat.context-size"), messages(wrongType));

        Path stories = TestSupport.sharedModel("stories260K.gguf");
        Throwable template = startupFailure("spring.ai.llamajava.chat.model=" + stories,
                "spring.ai.llamajava.chat.chat-template=" + tmp.resolve("no-such-template.jinja"));
        assertInstanceOf(InvalidConfigurationPropertyValueException.class, template);
        assertTrue(template.getMessage().contains("spring.ai.llamajava.chat.chat-template"), template.getMessage());

        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        Throwable embeddingAsChat = startupFailure("spring.ai.llamajava.chat.model=" + minilm);
        assertInstanceOf(InvalidConfigurationPropertyValueException.class, embeddingAsChat);
        assertTrue(embeddingAsChat.getMessage().contains("spring.ai.llamajava.chat.model")
                && embeddingAsChat.getMessage().contains("embedding model"), embeddingAsChat.getMessage());
    }
}
