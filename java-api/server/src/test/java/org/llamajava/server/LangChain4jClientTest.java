package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiLanguageModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.embed.Embedder;

/** LangChain4j's OpenAI client pointed at the server: chat (blocking and streamed), completions, embeddings. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LangChain4jClientTest {
    private static final String KEY = "lc4j-key";
    private static final ChatTemplate CHATML = ChatTemplate.builtin("chatml");

    @TempDir
    Path tmp;
    private Model model;
    private LlamaServer server;

    @BeforeAll
    void start() {
        model = Model.load(ServerFixture.generationModel(tmp));
        server = LlamaServer.start(model, ServerFixture.config(KEY).build());
    }

    @AfterAll
    void stop() {
        server.close();
        model.close();
    }

    private String expected(String user) {
        return ServerFixture.greedyChat(model, CHATML, List.of(ChatMessage.system("You tell stories."),
                ChatMessage.user(user)), 24).text();
    }

    @Test
    void chat() {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(server.baseUrl() + "/v1").apiKey(KEY)
                .modelName("gpt-4o-mini").temperature(0.0).maxTokens(24).timeout(Duration.ofSeconds(60)).build();
        ChatResponse r = chat.chat(SystemMessage.from("You tell stories."), UserMessage.from("Once upon a time"));
        assertEquals(expected("Once upon a time"), r.aiMessage().text());
        assertTrue(r.tokenUsage().outputTokenCount() >= 1, String.valueOf(r.tokenUsage()));
    }

    @Test
    void streamingChat() throws Exception {
        OpenAiStreamingChatModel chat = OpenAiStreamingChatModel.builder().baseUrl(server.baseUrl() + "/v1")
                .apiKey(KEY).modelName("gpt-4o-mini").temperature(0.0).maxTokens(24)
                .timeout(Duration.ofSeconds(60)).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        chat.chat(List.of(SystemMessage.from("You tell stories."), UserMessage.from("The little dog")),
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String partial) {
                        parts.append(partial);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        assertEquals(expected("The little dog"), parts.toString());
        assertEquals(parts.toString(), r.aiMessage().text());
    }

    @Test
    void completions() {
        OpenAiLanguageModel lm = OpenAiLanguageModel.builder().baseUrl(server.baseUrl() + "/v1").apiKey(KEY)
                .modelName("gpt-3.5-turbo-instruct").temperature(0.0).timeout(Duration.ofSeconds(60))
                .build();
        String text = lm.generate("Once upon a time").content();
        // LangChain4j sends no max_tokens: the reply runs to an end-of-generation token or the slot's end, as
        // llama-server's does; its first 64 tokens are the greedy ones
        String expected = ServerFixture.greedy(model, "Once upon a time", 64).text();
        assertTrue(text.startsWith(expected), "'" + text + "' starts with '" + expected + "'");
    }

    @Test
    void embeddings() {
        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        try (Model m = Model.load(minilm);
             LlamaServer s = LlamaServer.start(m, ServerConfig.builder().port(0).mode(ServerMode.EMBEDDING).threads(1)
                     .build());
             Embedder oracle = Embedder.create(m)) {
            OpenAiEmbeddingModel em = OpenAiEmbeddingModel.builder().baseUrl(s.baseUrl() + "/v1").apiKey("unused")
                    .modelName("text-embedding-3-small").timeout(Duration.ofSeconds(60)).build();
            float[] got = em.embed("Which animal carries loads in the Andes?").content().vector();
            assertArrayEquals(oracle.embed("Which animal carries loads in the Andes?"), got, 1e-6f);
        }
    }
}
