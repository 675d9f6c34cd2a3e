package org.llamajava.springai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.SamplingSettings;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatModels;
import org.llamajava.embed.Embedder;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.document.Document;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.function.FunctionToolCallback;

/**
 * The Spring AI module on its own, without Spring Boot (the starter's tests cover the
 * auto-configuration): the chat model samples with core's settings, follows core's template rule,
 * calls tools, and the embedding model gives core's embeddings.
 */
class LlamaJavaModelsTest {
    @TempDir
    Path tmp;

    @Test
    void optionsMapOntoCoresSamplingSettings() {
        LlamaJavaChatOptions o = LlamaJavaChatOptions.builder().temperature(0.5).topK(20).topP(0.9)
                .frequencyPenalty(0.5).presencePenalty(0.25).seed(5_000_000_000L).build();
        assertEquals(SamplingSettings.builder().temperature(0.5f).topK(20).topP(0.9f).frequencyPenalty(0.5f)
                .presencePenalty(0.25f).seed(5_000_000_000L).build(), LlamaJavaChatModel.settings(o));
        assertEquals(SamplingSettings.defaults(), LlamaJavaChatModel.settings(LlamaJavaChatOptions.builder().build()));
    }

    @Test
    void aGreedyReplyIsTheCoreApisAndChatmlWorks() {
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        try (LlamaJavaChatModel chat = LlamaJavaChatModel.builder().modelPath(stories).chatTemplate("chatml")
                .contextSize(1024).build()) {
            LlamaJavaChatOptions greedy = LlamaJavaChatOptions.builder().temperature(0.0).maxTokens(12).build();
            ChatResponse r = chat.call(new Prompt(List.of(new UserMessage("Once upon a time")), greedy));
            String reply = r.getResult().getOutput().getText();
            assertNotNull(reply);
            // the same prompt through core: chatml's rendering, greedy
            String rendered = "<|im_start|>user\nOnce upon a time<|im_end|>\n<|im_start|>assistant\n";
            Model model = chat.model();
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
                 org.llamajava.Sampler sampler = org.llamajava.Sampler.greedy()) {
                Vocabulary v = model.vocabulary();
                String expected = ctx.newSequence().generate(v.tokenize(rendered, true, true), sampler,
                        GenerateOptions.maxTokens(12)).text();
                assertEquals(expected.strip(), reply.strip());
            }
        }
    }

    @Test
    void anotherBuiltinTemplateIsRefusedWhenBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaJavaChatModel.builder().modelPath(Path.of("never-loaded.gguf")).chatTemplate("llama2").build());
        assertTrue(e.getMessage().contains("plain chats only"), e.getMessage());
    }

    record Weather(String city) {}

    @Test
    void aRequiredToolCallComesBackWithArgumentsForItsSchema() {
        Path model = ChatModels.toolModel(tmp, true);
        Path template = TestSupport.llamaSource().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
        List<Weather> calls = new ArrayList<>();
        ToolCallback weather = FunctionToolCallback.builder("weather", (Function<Weather, String>) w -> {
            calls.add(w);
            return "sunny";
        }).description("The weather in a city").inputType(Weather.class).build();
        try (LlamaJavaChatModel chat = LlamaJavaChatModel.builder().modelPath(model).chatTemplate(template.toString())
                .contextSize(2048).build()) {
            LlamaJavaChatOptions options = SpringAiToolsSupport.forcing(chat.model()).toolCallbacks(weather)
                    .internalToolExecutionEnabled(false).build();
            ChatResponse first = chat.call(new Prompt(List.of(new UserMessage("What is the weather in Oslo?")), options));
            AssistantMessage call = first.getResult().getOutput();
            assertTrue(call.hasToolCalls(), "required: a tool call");
            assertEquals("weather", call.getToolCalls().get(0).name());
            assertTrue(call.getToolCalls().get(0).arguments().contains("\"city\""), call.getToolCalls().get(0).arguments());
            assertEquals("TOOL_CALLS", first.getResult().getMetadata().getFinishReason());
            assertTrue(calls.isEmpty(), "user-controlled execution: the tool did not run");
        }
    }

    @Test
    void embeddingsAreTheCoreEmbeddersAndCloseFreesTheModel() {
        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        List<String> texts = List.of("The cat sat on the mat.", "Llamas carry loads.");
        LlamaJavaEmbeddingModel embeddings = LlamaJavaEmbeddingModel.builder().modelPath(minilm).build();
        try (Model model = Model.load(minilm); Embedder embedder = Embedder.create(model)) {
            List<float[]> expected = embedder.embedAll(texts);
            List<float[]> got = embeddings.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), 1e-6f, "embedding " + i);
            }
            assertArrayEquals(expected.get(0), embeddings.embed(new Document(texts.get(0))), 1e-6f);
            assertEquals(384, embeddings.dimensions());
        } finally {
            embeddings.close();
        }
        assertTrue(embeddings.model().isClosed(), "the model it loaded closes with it");
        assertFalse(embeddings.model() == null);
    }
}
