package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

/**
 * OpenAI's own Java SDK against the server on loopback: chat (blocking and streamed, with usage),
 * completions and embeddings give what llama-java gives through its Java API, and the SDK reads
 * the server's errors as its typed exceptions.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiSdkTest {
    private static final String KEY = "sdk-key";
    private static final ChatTemplate CHATML = ChatTemplate.builtin("chatml");

    @TempDir
    Path tmp;
    private Model model;
    private LlamaServer server;
    private OpenAIClient client;

    @BeforeAll
    void start() {
        model = Model.load(ServerFixture.generationModel(tmp));
        server = LlamaServer.start(model, ServerFixture.config(KEY).build());
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey(KEY).maxRetries(0).build();
    }

    @AfterAll
    void stop() {
        client.close();
        server.close();
        model.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String user) {
        return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addSystemMessage("You tell stories.")
                .addUserMessage(user).temperature(0.0).maxCompletionTokens(24);
    }

    private String expectedChat(String user) {
        return ServerFixture.greedyChat(model, CHATML, List.of(ChatMessage.system("You tell stories."),
                ChatMessage.user(user)), 24).text();
    }

    /** The Responses API over the same chat: instructions and input render as the system and user messages. */
    @Test
    void responsesGiveTheChatsReply() {
        com.openai.models.responses.Response r = client.responses().create(
                com.openai.models.responses.ResponseCreateParams.builder().model("gpt-4.1")
                        .instructions("You tell stories.").input("Once upon a time").temperature(0.0)
                        .maxOutputTokens(24L).build());
        assertTrue(r.id().startsWith("resp_"), r.id());
        com.openai.models.responses.ResponseOutputMessage m = r.output().get(0).asMessage();
        assertTrue(m.id().startsWith("msg_"), m.id());
        assertEquals(expectedChat("Once upon a time"), m.content().get(0).asOutputText().text());
        assertEquals(24, r.usage().orElseThrow().outputTokens());

        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<com.openai.models.responses.ResponseStreamEvent> stream = client.responses().createStreaming(
                com.openai.models.responses.ResponseCreateParams.builder().model("gpt-4.1")
                        .instructions("You tell stories.").input("Once upon a time").temperature(0.0)
                        .maxOutputTokens(24L).build())) {
            stream.stream().forEach(e -> e.outputTextDelta().ifPresent(d -> streamed.append(d.delta())));
        }
        assertEquals(expectedChat("Once upon a time"), streamed.toString());
    }

    @Test
    void chatBlocking() {
        ChatCompletion c = client.chat().completions().create(chat("Once upon a time").build());
        assertEquals(expectedChat("Once upon a time"), c.choices().get(0).message().content().orElseThrow());
        assertEquals(server.modelName(), c.model());
        long generated = c.usage().orElseThrow().completionTokens();
        assertTrue(generated >= 1 && generated <= 24, "usage: " + c.usage());
    }

    @Test
    void chatStreaming() {
        ChatCompletionCreateParams p = chat("The little dog").streamOptions(ChatCompletionStreamOptions.builder()
                .includeUsage(true).build()).build();
        StringBuilder text = new StringBuilder();
        List<String> finish = new ArrayList<>();
        long[] usage = {-1};
        int[] chunks = {0};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(chunk -> {
                chunks[0]++;
                for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                    ch.delta().content().ifPresent(text::append);
                    ch.finishReason().ifPresent(f -> finish.add(f.asString()));
                }
                chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
            });
        }
        assertEquals(expectedChat("The little dog"), text.toString());
        assertEquals(1, finish.size(), "one finish reason: " + finish);
        assertTrue(usage[0] >= 1, "the last chunk has the usage");
        assertTrue(chunks[0] >= 3, "streamed in pieces: " + chunks[0]);
    }

    @Test
    void completions() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model("davinci-002")
                .prompt("Once upon a time").maxTokens(20).temperature(0.0).build());
        assertEquals(ServerFixture.greedy(model, "Once upon a time", 20).text(), c.choices().get(0).text());
    }

    @Test
    void errorsBecomeTheSdksExceptions() {
        BadRequestException bad = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("Hi").maxCompletionTokens(-5).build()));
        assertEquals(400, bad.statusCode());
        assertTrue(bad.getMessage().contains("max_completion_tokens"), bad.getMessage());
        OpenAIClient wrong = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey("nope")
                .maxRetries(0).build();
        try {
            UnauthorizedException e = assertThrows(UnauthorizedException.class,
                    () -> wrong.chat().completions().create(chat("Hi").build()));
            assertEquals(401, e.statusCode());
        } finally {
            wrong.close();
        }
        assertEquals(expectedChat("Hi"), client.chat().completions().create(chat("Hi").build()).choices().get(0)
                .message().content().orElseThrow(), "still serving");
    }

    @Test
    void embeddingsWithTheSharedEmbeddingModel() {
        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        List<String> texts = List.of("Llamas carry loads in the Andes.", "Java runs on the JVM.");
        try (Model m = Model.load(minilm);
             LlamaServer s = LlamaServer.start(m, ServerConfig.builder().port(0).mode(ServerMode.EMBEDDING).threads(1)
                     .build());
             Embedder oracle = Embedder.create(m)) {
            OpenAIClient c = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey("unused").maxRetries(0)
                    .build();
            for (EmbeddingCreateParams.EncodingFormat format : List.of(EmbeddingCreateParams.EncodingFormat.FLOAT,
                    EmbeddingCreateParams.EncodingFormat.BASE64)) {
                CreateEmbeddingResponse r = c.embeddings().create(EmbeddingCreateParams.builder()
                        .model("text-embedding-3-small").inputOfArrayOfStrings(texts).encodingFormat(format).build());
                assertEquals(2, r.data().size());
                for (int i = 0; i < texts.size(); i++) {
                    float[] want = oracle.embed(texts.get(i));
                    List<Float> got = r.data().get(i).embedding();
                    float[] g = new float[got.size()];
                    for (int k = 0; k < g.length; k++) {
                        g[k] = got.get(k);
                    }
                    assertArrayEquals(want, g, 1e-6f, format + " input " + i);
                }
                assertEquals(oracle.tokenize(texts.get(0)).length + oracle.tokenize(texts.get(1)).length,
                        r.usage().promptTokens());
            }
            c.close();
        }
    }
}
