package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatTemplate;

/** Models and a plain HTTP client (the JDK's) for the server's tests. */
final class ServerFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ServerFixture() {}

    /** stories260K (real weights) where the shared models are, else the tiny random model written into {@code dir}. */
    static Path generationModel(Path dir) {
        Path shared = Path.of(System.getProperty("llama.models.dir", "../shared/models"), "stories260K.gguf");
        return Files.isRegularFile(shared) ? shared : TestSupport.writeTinyModel(dir);
    }

    /** What the tests' servers share: loopback on a free port, the key, chatml, 2 slots of 512 tokens, one decode thread. */
    static ServerConfig.Builder config(String apiKey) {
        return ServerConfig.builder().port(0).apiKey(apiKey).slots(2).contextSize(1024).threads(1)
                .chatTemplate(ChatTemplate.builtin("chatml"));
    }

    /** The oracle: greedy generation from {@code tokens} through a {@link Sequence} of its own context. */
    static Completion greedy(Model model, int[] tokens, int maxTokens) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).threads(1).build());
             Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            return s.generate(tokens, greedy, GenerateOptions.maxTokens(maxTokens));
        }
    }

    /** Greedy completion of a text prompt, tokenized as {@code /v1/completions} does. */
    static Completion greedy(Model model, String prompt, int maxTokens) {
        return greedy(model, model.vocabulary().tokenize(prompt, true, true), maxTokens);
    }

    /** Greedy reply to chat messages rendered with {@code template}, tokenized as {@code ChatSession} does. */
    static Completion greedyChat(Model model, ChatTemplate template, List<ChatMessage> messages, int maxTokens) {
        String prompt = template.render(messages, true);
        Vocabulary v = model.vocabulary();
        boolean bos = v.addsBos() && v.bos() != Vocabulary.NO_TOKEN && !prompt.startsWith(v.tokenPiece(v.bos()));
        return greedy(model, v.tokenize(prompt, bos, true), maxTokens);
    }

    /** A response: status, headers and the body parsed as JSON (null if it is not JSON). */
    record Reply(int status, HttpResponse<String> raw, JsonNode json) {
        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        /** The error object of an OpenAI-style error body. */
        JsonNode error() {
            return json == null ? null : json.get("error");
        }
    }

    static Reply post(String url, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        return send(b, headers);
    }

    static Reply get(String url, String... headers) {
        return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120)).GET(), headers);
    }

    static Reply send(HttpRequest.Builder b, String... headers) {
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json;
            try {
                json = JSON.readTree(r.body());
            } catch (IOException e) {
                json = null;
            }
            return new Reply(r.statusCode(), r, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A JSON string literal. */
    static String q(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
