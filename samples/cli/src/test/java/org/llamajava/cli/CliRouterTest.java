package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} without {@code -m}: llama-server's router mode. The models folder's
 * {@code ORG/REPO/NAME-TAG.gguf} files are listed as {@code ORG/REPO:TAG} (and a file at its top by
 * its name), each is started as a child process on its first request and answers what
 * {@code generate} generates for the same greedy request; {@code --models-max} stops the least
 * recently used; a child that is killed is listed as unloaded (failed) while the router goes on;
 * {@code --no-models-autoload} answers 400 until {@code POST /models/load}; the API key guards it;
 * {@code GET /models?reload=1} reads the preset file again; a killed router leaves no child behind.
 */
class CliRouterTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "router-key";

    @TempDir
    Path tmp;

    /** A models folder with stories260K under three names: two pulled-style, one at the top. */
    private Path modelsFolder(Path model) throws Exception {
        Path dir = tmp.resolve("models");
        for (String f : new String[] {"org/a-GGUF/a-F32.gguf", "org/b-GGUF/b-Q8_0.gguf", "plain.gguf"}) {
            Path p = dir.resolve(f);
            Files.createDirectories(p.getParent());
            Files.copy(model, p);
        }
        return dir;
    }

    private static HttpResponse<String> send(String method, String url, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode models(String url, String key) throws Exception {
        HttpResponse<String> r = send("GET", url + "/models", null, key);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("data");
    }

    private static Set<String> ids(JsonNode data) {
        Set<String> ids = new TreeSet<>();
        data.forEach(m -> ids.add(m.get("id").asText()));
        return ids;
    }

    private static JsonNode entry(String url, String key, String id) throws Exception {
        for (JsonNode m : models(url, key)) {
            if (m.get("id").asText().equals(id)) {
                return m;
            }
        }
        return fail(id + " is not listed");
    }

    private static String status(String url, String key, String id) throws Exception {
        return entry(url, key, id).get("status").get("value").asText();
    }

    /** Polls /models until the model has the status (a load or a stop runs in the background); bounded. */
    private static void awaitStatus(String url, String key, String id, String want) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            last = status(url, key, id);
            if (last.equals(want)) {
                return;
            }
            Thread.sleep(50);
        }
        fail(id + " did not become " + want + "; last: " + last);
    }

    private static String completion(String url, String key, String model) throws Exception {
        HttpResponse<String> r = send("POST", url + "/v1/completions", "{\"model\": \"" + model + "\", \"prompt\":"
                + " \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0}", key);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("choices").get(0).get("text").asText();
    }

    @Test
    void loadsOnFirstRequestEvictsTheLeastRecentlyUsedAndSurvivesAKilledChild() throws Exception {
        Path model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Result generated = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p",
                "Once upon a time", "-n", "12", "--temp", "0", "-t", "1");
        assertEquals(0, generated.exitCode(), generated::describe);
        Path dir = modelsFolder(model);
        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, "--models-dir", dir.toString(), "--port", "0",
                "--models-max", "2", "--api-key", KEY, "-np", "1", "-c", "256", "-t", "1")) {
            String url = served.url();
            assertTrue(served.banner().contains("router"), served.banner());

            HttpResponse<String> denied = send("GET", url + "/models", null, null);
            assertEquals(401, denied.statusCode(), denied.body());
            assertEquals("authentication_error", JSON.readTree(denied.body()).get("error").get("type").asText());

            assertEquals(Set.of("org/a-GGUF:F32", "org/b-GGUF:Q8_0", "plain"), ids(models(url, KEY)));
            for (JsonNode m : models(url, KEY)) {
                assertEquals("unloaded", m.get("status").get("value").asText(), m.toString());
            }
            JsonNode props = JSON.readTree(send("GET", url + "/props", null, KEY).body());
            assertEquals("router", props.get("role").asText());
            assertEquals(2, props.get("max_instances").asInt());
            assertTrue(props.get("models_autoload").asBoolean());

            // the first request loads the model, and the child answers as generate does
            assertEquals(generated.stdout().strip(), completion(url, KEY, "org/a-GGUF:F32").strip());
            assertEquals("loaded", status(url, KEY, "org/a-GGUF:F32"));
            completion(url, KEY, "org/b-GGUF:Q8_0");
            assertEquals("loaded", status(url, KEY, "org/b-GGUF:Q8_0"));

            // a third model: the least recently used (a) is stopped for it
            completion(url, KEY, "plain");
            assertEquals("loaded", status(url, KEY, "plain"));
            assertEquals("loaded", status(url, KEY, "org/b-GGUF:Q8_0"));
            awaitStatus(url, KEY, "org/a-GGUF:F32", "unloaded");

            // unload
            HttpResponse<String> unload = send("POST", url + "/models/unload", "{\"model\": \"plain\"}", KEY);
            assertEquals(200, unload.statusCode(), unload.body());
            assertTrue(JSON.readTree(unload.body()).get("success").asBoolean());
            awaitStatus(url, KEY, "plain", "unloaded");
            assertFalse(entry(url, KEY, "plain").get("status").has("failed"), "a requested stop is no failure");

            // a child that dies: listed as unloaded and failed; the router and the other models go on
            ProcessHandle child = served.process().toHandle().descendants()
                    .filter(p -> p.info().commandLine().orElse("").contains("b-Q8_0.gguf")).findFirst()
                    .orElseThrow(() -> new AssertionError("no child process serves b"));
            child.destroyForcibly();
            awaitStatus(url, KEY, "org/b-GGUF:Q8_0", "unloaded");
            JsonNode b = entry(url, KEY, "org/b-GGUF:Q8_0").get("status");
            assertTrue(b.path("failed").asBoolean(), b.toString());
            assertTrue(b.path("exit_code").asInt() != 0, b.toString());
            assertEquals(200, send("GET", url + "/health", null, null).statusCode());
            assertEquals(generated.stdout().strip(), completion(url, KEY, "org/a-GGUF:F32").strip());
            // and b loads again on its next request
            completion(url, KEY, "org/b-GGUF:Q8_0");
            assertEquals("loaded", status(url, KEY, "org/b-GGUF:Q8_0"));
        }
    }

    @Test
    void withoutAutoloadARequestForAnUnloadedModelGets400UntilItIsLoaded() throws Exception {
        Path dir = modelsFolder(CliTestSupport.model("stories260K.gguf"));
        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, "--models-dir", dir.toString(), "--port", "0",
                "--no-models-autoload", "-np", "1", "-c", "256", "-t", "1")) {
            String url = served.url();
            String body = "{\"model\": \"plain\", \"prompt\": \"Once\", \"max_tokens\": 4}";
            HttpResponse<String> refused = send("POST", url + "/v1/completions", body, null);
            assertEquals(400, refused.statusCode(), refused.body());
            assertEquals("invalid_request_error", JSON.readTree(refused.body()).get("error").get("type").asText());
            assertEquals("unloaded", status(url, null, "plain"));

            HttpResponse<String> unknown = send("POST", url + "/v1/completions",
                    "{\"model\": \"no/such:Q1\", \"prompt\": \"Once\"}", null);
            assertEquals(400, unknown.statusCode(), unknown.body());
            assertEquals(404, send("POST", url + "/models/load", "{\"model\": \"no/such:Q1\"}", null).statusCode());

            HttpResponse<String> load = send("POST", url + "/models/load", "{\"model\": \"plain\"}", null);
            assertEquals(200, load.statusCode(), load.body());
            awaitStatus(url, null, "plain", "loaded");
            assertEquals(400, send("POST", url + "/models/load", "{\"model\": \"plain\"}", null).statusCode(),
                    "already running");
            assertEquals(200, send("POST", url + "/v1/completions", body, null).statusCode());

            // a router that is killed (no shutdown hook runs) leaves no child behind
            java.util.List<ProcessHandle> children = served.process().toHandle().descendants()
                    .filter(p -> p.info().commandLine().orElse("").contains("plain.gguf")).toList();
            assertEquals(1, children.size(), "one child serves the loaded model");
            served.process().destroyForcibly();
            for (ProcessHandle c : children) {
                c.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertFalse(c.isAlive(), "the child of a killed router stops");
            }
        }
    }

    @Test
    void thePresetFileIsReadAgainOnReload() throws Exception {
        Path dir = modelsFolder(CliTestSupport.model("stories260K.gguf"));
        Path ini = tmp.resolve("presets.ini");
        Files.writeString(ini, "[one]\nhf-repo = org/a-GGUF\n\n[two]\nmodel = " + dir.resolve("plain.gguf")
                + "\nc = 128\nn-predict = 7\nload-on-startup = true\n");
        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, "--models-dir", dir.toString(), "--port", "0",
                "--models-preset", ini.toString(), "-np", "1", "-c", "256", "-t", "1")) {
            String url = served.url();
            assertEquals(Set.of("org/a-GGUF:F32", "org/b-GGUF:Q8_0", "plain", "one", "two"), ids(models(url, null)));
            assertEquals("preset", entry(url, null, "one").get("source").asText());
            awaitStatus(url, null, "two", "loaded"); // load-on-startup
            String args = entry(url, null, "two").get("status").get("args").toString();
            assertTrue(args.contains("\"--n-predict\",\"7\""), "the preset's flags reach the child: " + args);
            assertTrue(args.contains("\"-c\",\"256\"") && !args.contains("\"128\""),
                    "the router's command line wins over the preset, as llama-server's: " + args);

            Files.writeString(ini, "[*]\ndedup-cache-models = 1\n\n[two]\nmodel = " + dir.resolve("plain.gguf")
                    + "\n\n[three]\nhf-repo = org/a-GGUF:F32\n");
            HttpResponse<String> r = send("GET", url + "/models?reload=1", null, null);
            assertEquals(200, r.statusCode(), r.body());
            // one is gone, three is new, and dedup hides the cache entry three stands for
            assertEquals(Set.of("org/b-GGUF:Q8_0", "plain", "two", "three"), ids(JSON.readTree(r.body()).get("data")));
            // two's flags changed: the running child is stopped (llama-server's reload)
            awaitStatus(url, null, "two", "unloaded");
            // a hidden entry is still served by name
            assertEquals(200, send("POST", url + "/tokenize", "{\"model\": \"org/a-GGUF:F32\", \"content\": \"hello\"}",
                    null).statusCode());
            HttpResponse<String> t = send("POST", url + "/tokenize", "{\"model\": \"three\", \"content\": \"hello\"}", null);
            assertEquals(200, t.statusCode(), t.body());
            assertTrue(JSON.readTree(t.body()).get("tokens").size() > 0, t.body());
        }
    }
}
