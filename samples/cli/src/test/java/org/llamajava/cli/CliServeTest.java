package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code llama-java serve}: starts with llama-server's flags, prints where it listens, answers
 * {@code /v1/completions} with the text {@code generate} prints for the same greedy request,
 * checks its API key, and stops on SIGTERM.
 */
class CliServeTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    private static HttpResponse<String> post(String url, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesWhatGenerateGeneratesAndStopsOnSigterm() throws Exception {
        Path model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Result generated = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p",
                "Once upon a time", "-n", "16", "--temp", "0", "-t", "1");
        assertEquals(0, generated.exitCode(), generated::describe);

        CliTestSupport.Served served = CliTestSupport.serve(tmp, "-m", model.toString(), "--port", "0", "-np", "2",
                "-c", "1024", "-t", "1", "--api-key", "cli-key", "--chat-template", "chatml", "-a", "stories");
        try (served) {
            String url = served.url();
            String first = served.banner();
            assertTrue(first.contains("model stories") && first.contains("2 slots of 512 tokens")
                    && first.contains("API key required"), first);

            HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 16, \"temperature\": 0}";
            assertEquals(401, post(url + "/v1/completions", body, null).statusCode());
            HttpResponse<String> r = post(url + "/v1/completions", body, "cli-key");
            assertEquals(200, r.statusCode(), r.body());
            String text = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("choices").get(0)
                    .get("text").asText();
            assertEquals(generated.stdout().strip(), text.strip(), "serve and generate give the same greedy text");

            CliTestSupport.Result busy = CliTestSupport.runCli(tmp, "serve", "-m", model.toString(), "--port",
                    url.substring(url.lastIndexOf(':') + 1), "-t", "1");
            assertEquals(1, busy.exitCode(), busy::describe);
            assertTrue(busy.stderr().contains("error: the server could not start"), busy::describe);
        }
        int exit = served.process().exitValue();
        assertTrue(exit == 0 || exit == 143, "exit " + exit);
        assertTrue(served.stderr().contains("stopped"), served.stderr());
    }

    @Test
    void usageErrors() {
        CliTestSupport.Result noModel = CliTestSupport.runCli(tmp, "serve", "--port", "0");
        assertEquals(2, noModel.exitCode(), noModel::describe);
        assertTrue(noModel.stderr().contains("missing -m"), noModel::describe);
        CliTestSupport.Result both = CliTestSupport.runCli(tmp, "serve", "-m", "x.gguf", "--embeddings", "--reranking");
        assertEquals(2, both.exitCode(), both::describe);
    }
}
