package org.llamajava.cli;

import org.llamajava.hub.FakeHub;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.TestSupport;

/**
 * {@code pull}, {@code models} and {@code -m} with a reference, end to end through the CLI jar,
 * against {@link FakeHub} on loopback ({@code MODEL_ENDPOINT} points there; nothing touches the
 * internet): a real GGUF (the test suite's tiny random model) is pulled as {@code ORG/REPO:QUANT},
 * listed with its architecture and quantization, and generated from by reference and by name
 * without a second download; offline and a malformed reference are clear errors.
 */
class CliPullTest {
    @TempDir
    static Path tmp;
    private static FakeHub hub;
    private static byte[] model;

    @BeforeAll
    static void startHub() throws IOException {
        hub = new FakeHub();
        model = Files.readAllBytes(TestSupport.writeTinyModel(Files.createDirectories(tmp.resolve("src"))));
        hub.put("org/tiny-GGUF", "tiny-F16.gguf", model, FakeHub.sha256Of(model), 1);
        hub.listing("org/tiny-GGUF", "[{\"type\":\"file\",\"path\":\"README.md\",\"size\":3},"
                + "{\"type\":\"file\",\"path\":\"tiny-F16.gguf\",\"size\":" + model.length + ",\"lfs\":{\"oid\":\""
                + FakeHub.sha256Of(model) + "\",\"size\":" + model.length + "}}]");
    }

    @AfterAll
    static void stopHub() {
        hub.close();
    }

    private static CliTestSupport.Result cli(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
                CliTestSupport.cliJar().toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        return CliTestSupport.run(cmd, env, tmp.resolve("work"), CliTestSupport.TIMEOUT);
    }

    @Test
    void pullListAndGenerateByReferenceAndByName() throws IOException {
        Path dir = tmp.resolve("models");
        Map<String, String> env = Map.of("MODEL_ENDPOINT", hub.endpoint(), "LLAMA_JAVA_MODELS", dir.toString());
        CliTestSupport.Result empty = cli(env, "models");
        assertEquals(0, empty.exitCode(), empty::describe);
        assertTrue(empty.stderr().contains("no models in " + dir), empty::describe);

        // the first transfer breaks off halfway: pull resumes it
        CliTestSupport.Result pull = cli(env, "pull", "org/tiny-GGUF:F16");
        assertEquals(0, pull.exitCode(), pull::describe);
        Path file = dir.resolve("org/tiny-GGUF/tiny-F16.gguf");
        assertEquals(file.toString(), pull.stdout().strip(), pull::describe);
        assertArrayEquals(model, Files.readAllBytes(file));
        assertTrue(hub.log.stream().anyMatch(l -> l.startsWith("GET /blobs/org/tiny-GGUF/tiny-F16.gguf bytes=")),
                hub.log::toString);

        CliTestSupport.Result list = cli(env, "models");
        assertEquals(0, list.exitCode(), list::describe);
        List<String> lines = list.stdout().lines().toList();
        assertEquals(2, lines.size(), list::describe);
        assertTrue(lines.get(0).matches("NAME\\s+SIZE\\s+ARCH\\s+QUANT"), list::describe);
        assertTrue(lines.get(1).matches("org/tiny-GGUF/tiny-F16\\.gguf\\s+[0-9.]+ MiB\\s+llama\\s+\\S+"), list::describe);

        long blobs = hub.log.stream().filter(l -> l.startsWith("GET /blobs/")).count();
        for (String ref : List.of("org/tiny-GGUF:F16", "tiny-F16", "hf:org/tiny-GGUF/tiny-F16.gguf")) {
            CliTestSupport.Result gen = cli(env, "generate", "-m", ref, "-p", "Once upon a time", "-n", "4", "--temp",
                    "0", "-t", "1");
            assertEquals(0, gen.exitCode(), gen::describe);
            assertTrue(gen.stderr().contains("generated 4 tokens"), gen::describe);
        }
        assertEquals(blobs, hub.log.stream().filter(l -> l.startsWith("GET /blobs/")).count(), "no second download");
    }

    @Test
    void offlineAndMalformedReferencesAreClearErrors() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Map<String, String> env = Map.of("MODEL_ENDPOINT", "http://127.0.0.1:" + port, "LLAMA_JAVA_MODELS",
                tmp.resolve("offline").toString());
        CliTestSupport.Result offline = cli(env, "pull", "hf:org/repo/m.gguf");
        assertEquals(1, offline.exitCode(), offline::describe);
        assertEquals(1, offline.stderrLines().stream().filter(l -> l.startsWith("error:")).count(), offline::describe);
        assertTrue(offline.stderr().contains("error: cannot reach http://127.0.0.1:" + port + " (offline?)"),
                offline::describe);
        assertEquals("", offline.stdout(), offline::describe);

        CliTestSupport.Result bad = cli(env, "pull", "not a reference");
        assertEquals(2, bad.exitCode(), bad::describe);
        assertTrue(bad.stderrLines().get(0).startsWith("error: 'not a reference' is not a URL"), bad::describe);
        CliTestSupport.Result none = cli(env, "pull");
        assertEquals(2, none.exitCode(), none::describe);
    }
}
