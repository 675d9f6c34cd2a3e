package org.llamajava.springai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.embed.Embedder;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The starter and properties alone give a working {@code ChatClient} and {@code EmbeddingModel}:
 * greedy chat equals llama-java's own {@code ChatSession} reply, streaming emits the same text as
 * call, and embeddings equal the core {@code Embedder}'s.
 */
@SpringBootTest(classes = TestApp.class, properties = {
    "spring.ai.llamajava.chat.context-size=1024", "spring.ai.llamajava.chat.options.temperature=0",
    "spring.ai.llamajava.chat.options.max-tokens=24"})
class SpringBootStarterTest {
    static Path stories;
    static Path minilm;

    @BeforeAll
    static void models() {
        stories = TestSupport.sharedModel("stories260K.gguf");
        minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
    }

    @DynamicPropertySource
    static void modelPaths(DynamicPropertyRegistry registry) {
        registry.add("spring.ai.llamajava.chat.model", () -> stories.toString());
        registry.add("spring.ai.llamajava.embedding.model", () -> minilm.toString());
    }

    @Autowired
    ChatClient.Builder chatClientBuilder;

    @Autowired
    EmbeddingModel embeddingModel;

    @Test
    void chatClientCallEqualsTheCoreApiAndStreamEqualsCall() {
        String expected;
        try (Model model = Model.load(stories);
             Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build())) {
            ChatSession s = new ChatSession(ctx.newSequence(), ChatTemplate.of(model), "You tell stories.");
            expected = s.send("Once upon a time", Sampler.builder().greedy(), GenerateOptions.maxTokens(24), null)
                    .message().content();
        }
        ChatClient client = chatClientBuilder.build();
        String called = client.prompt().system("You tell stories.").user("Once upon a time").call().content();
        assertEquals(expected, called);
        assertFalse(called.isEmpty());
        List<String> pieces = client.prompt().system("You tell stories.").user("Once upon a time").stream().content()
                .collectList().block();
        assertEquals(called, String.join("", pieces), "streamed pieces: " + pieces);
    }

    @Test
    void embeddingsEqualTheCoreEmbedder() {
        List<String> texts = List.of("The cat sat on the mat.", "Llamas carry loads.");
        try (Model model = Model.load(minilm); Embedder embedder = Embedder.create(model)) {
            List<float[]> expected = embedder.embedAll(texts);
            List<float[]> got = embeddingModel.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), 1e-6f, "embedding " + i);
            }
            assertArrayEquals(expected.get(1), embeddingModel.embed(new Document(texts.get(1))), 1e-6f, "embed(Document)");
            assertEquals(384, embeddingModel.dimensions());
        }
    }
}
