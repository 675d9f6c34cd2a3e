package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code llama-java serve}: starts with llama-server's flags, prints where it listens, answers
 * {@code /v1/completions} with the text {@code generate} prints for the same greedy request,
 * checks its API key, and stops on SIGTERM.
 */
class CliServeTest {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+) ");
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

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", CliTestSupport.cliJar().toAbsolutePath().toString(), "serve", "-m", model.toString(),
                "--port", "0", "-np", "2", "-c", "1024", "-t", "1", "--api-key", "cli-key", "--chat-template", "chatml",
                "-a", "stories"));
        Path err = tmp.resolve("serve.err");
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectError(err.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            assertNotNull(first, () -> "serve printed nothing; stderr: " + read(err));
            Matcher m = LISTENING.matcher(first);
            assertTrue(m.find(), first);
            String url = m.group(1);
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
        } finally {
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve stops on SIGTERM");
        }
        int exit = p.exitValue();
        assertTrue(exit == 0 || exit == 143, "exit " + exit);
        assertTrue(read(err).contains("stopped"), read(err));
    }

    @Test
    void usageErrors() {
        CliTestSupport.Result noModel = CliTestSupport.runCli(tmp, "serve", "--port", "0");
        assertEquals(2, noModel.exitCode(), noModel::describe);
        assertTrue(noModel.stderr().contains("missing -m"), noModel::describe);
        CliTestSupport.Result both = CliTestSupport.runCli(tmp, "serve", "-m", "x.gguf", "--embeddings", "--reranking");
        assertEquals(2, both.exitCode(), both::describe);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
