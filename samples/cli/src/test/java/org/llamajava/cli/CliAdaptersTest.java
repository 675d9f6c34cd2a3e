package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.AdapterFiles;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.ControlVector;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.gguf.ModelShape;

/**
 * {@code --lora}, {@code --lora-scaled}, {@code --control-vector}, {@code --control-vector-scaled}
 * and {@code --control-vector-layer-range} on {@code generate}, {@code chat} and {@code serve}: the
 * greedy text equals the core API's with the same adapters and llama.cpp's own
 * {@code llama-completion} given the same flags (built from the same source), on a random-weight
 * model with random adapters written by the core's test helpers; bad files and bad values are
 * one-line errors with llama-java's exit statuses.
 */
class CliAdaptersTest {
    static final String PROMPT = "Once upon a time";
    static final int N = 24;
    static final ModelShape SHAPE = AdapterFiles.SHAPE;

    @TempDir
    static Path tmp;
    static Path base;
    static Path loraA;
    static Path loraB;
    static Path cv;
    static Model model;

    @BeforeAll
    static void write() {
        CliTestSupport.cliJar();
        base = tmp.resolve("base.gguf");
        AdapterFiles.writeBase(base, SHAPE);
        loraA = AdapterFiles.writeLora(tmp.resolve("lora-a.gguf"), "llama", SHAPE, 4, 8f, 1);
        loraB = AdapterFiles.writeLora(tmp.resolve("lora-b.gguf"), "llama", SHAPE, 2, 2f, 2);
        cv = AdapterFiles.writeControlVector(tmp.resolve("cv.gguf"), 64, 4, 9, 2f);
        model = Model.load(base);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    /** The core API's greedy text with a context prepared by {@code setup}. */
    static String api(Consumer<Context> setup) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build())) {
            setup.accept(ctx);
            try (Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                return s.generate(model.vocabulary().tokenize(PROMPT, true, true), greedy, GenerateOptions.maxTokens(N))
                        .text();
            }
        }
    }

    /** {@code generate} with these extra flags: its continuation (stdout less its final newline). */
    static String generate(String... flags) {
        List<String> args = new ArrayList<>(List.of("generate", "-m", base.toString(), "-p", PROMPT, "-n",
                Integer.toString(N), "--temp", "0", "-c", "256", "-t", "1"));
        args.addAll(List.of(flags));
        CliTestSupport.Result r = CliTestSupport.runCli(tmp.resolve("run"), args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::describe);
        assertTrue(r.stdout().endsWith("\n"), r::describe);
        return r.stdout().substring(0, r.stdout().length() - 1);
    }

    /**
     * llama-completion's greedy text with these extra flags, retried while its logger drops the tail
     * (read leniently, as the core API decodes: a random model's bytes are not always valid UTF-8).
     */
    static String llamaCompletion(String... flags) throws Exception {
        return TestSupport.llamaCompletionText(base, PROMPT, N, flags);
    }

    @Test
    void loraEqualsTheCoreApiAndLlamaCompletion() throws Exception {
        String plain = api(ctx -> { });
        String expected;
        try (LoraAdapter a = LoraAdapter.load(model, loraA)) {
            expected = api(ctx -> ctx.setLoraAdapter(a, 1f));
        }
        assertNotEquals(plain, expected, "the adapter must change the text for this test to mean anything");
        assertEquals(expected, generate("--lora", loraA.toString()));
        assertEquals(expected, llamaCompletion("--lora", loraA.toString()), "llama.cpp's text with the same adapter");
        // scale 0 is the base model, in llama.cpp's form and in the older two-argument form
        assertEquals(plain, generate("--lora-scaled", loraA + ":0"));
        assertEquals(plain, generate("--lora-scaled", loraA.toString(), "0"));
        assertEquals(plain, generate());
    }

    @Test
    void twoScaledAdaptersEqualTheCoreApiAndLlamaCompletion() throws Exception {
        String expected;
        try (LoraAdapter a = LoraAdapter.load(model, loraA); LoraAdapter b = LoraAdapter.load(model, loraB)) {
            Map<LoraAdapter, Float> both = new LinkedHashMap<>();
            both.put(a, 0.5f);
            both.put(b, 1.5f);
            expected = api(ctx -> ctx.setLoraAdapters(both));
        }
        assertEquals(expected, generate("--lora-scaled", loraA + ":0.5," + loraB + ":1.5"));
        assertEquals(expected, generate("--lora-scaled", loraA + ":0.5", "--lora-scaled", loraB.toString(), "1.5"));
        assertEquals(expected, llamaCompletion("--lora-scaled", loraA + ":0.5," + loraB + ":1.5"));
    }

    @Test
    void controlVectorsEqualTheCoreApiAndLlamaCompletion() throws Exception {
        String plain = api(ctx -> { });
        String ranged = api(ctx -> ctx.setControlVector(ControlVector.load(cv, 0.8f), 2, 3));
        assertNotEquals(plain, ranged, "the control vector must change the text for this test to mean anything");
        assertEquals(ranged, generate("--control-vector-scaled", cv + ":0.8", "--control-vector-layer-range", "2", "3"));
        assertEquals(ranged, llamaCompletion("--control-vector-scaled", cv + ":0.8", "--control-vector-layer-range", "2",
                "3"));
        // two files add up over every layer (llama.cpp's default range)
        String sum = api(ctx -> ctx.setControlVector(ControlVector.sum(ControlVector.load(cv, 1f),
                ControlVector.load(cv, 0.3f))));
        assertNotEquals(plain, sum);
        assertEquals(sum, generate("--control-vector", cv.toString(), "--control-vector-scaled", cv + ":0.3"));
        assertEquals(sum, llamaCompletion("--control-vector", cv.toString(), "--control-vector-scaled", cv + ":0.3"));
    }

    @Test
    void chatAppliesTheAdapterToo() {
        String base = chat();
        String adapted = chat("--lora", loraA.toString());
        assertNotEquals(base, adapted, "chat's reply changes with the adapter");
        assertEquals(base, chat("--lora-scaled", loraA + ":0"));
    }

    private static String chat(String... flags) {
        List<String> args = new ArrayList<>(List.of("chat", "-m", base.toString(), "--chat-template", "chatml", "-n", "12",
                "--temp", "0", "-c", "256", "-t", "1"));
        args.addAll(List.of(flags));
        CliTestSupport.Result r = CliTestSupport.runCliWithInput(tmp.resolve("chat"), "Hello there\n",
                args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::describe);
        return r.stdout();
    }

    @Test
    void serveAppliesTheAdapterToEverySlot() throws Exception {
        String expected;
        try (LoraAdapter a = LoraAdapter.load(model, loraA)) {
            expected = api(ctx -> {
                ctx.setLoraAdapter(a, 1f);
                ctx.setControlVector(ControlVector.load(cv, 0.8f), 2, 3);
            });
        }
        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, "-m", base.toString(), "--port", "0", "-np", "2",
                "-c", "512", "-t", "1", "--lora", loraA.toString(), "--control-vector-scaled", cv + ":0.8",
                "--control-vector-layer-range", "2", "3")) {
            HttpClient http = HttpClient.newHttpClient();
            String body = "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": " + N + ", \"temperature\": 0}";
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(served.url() + "/v1/completions"))
                        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(expected, new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body())
                        .get("choices").get(0).get("text").asText());
            }
            assertTrue(served.stderr().contains("applied 1 LoRA adapter and a control vector on layers 2..3"), served.stderr());
        }
    }

    @Test
    void serveLoadsAdaptersWithoutApplyingThemAndRequestsSetTheirScales() throws Exception {
        String plain = api(ctx -> { });
        String withA;
        String withB;
        try (LoraAdapter a = LoraAdapter.load(model, loraA); LoraAdapter b = LoraAdapter.load(model, loraB)) {
            withA = api(ctx -> ctx.setLoraAdapter(a, 1f));
            withB = api(ctx -> ctx.setLoraAdapter(b, 0.5f));
        }
        assertNotEquals(plain, withA);
        assertNotEquals(withA, withB);
        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, "-m", base.toString(), "--port", "0", "-np", "2",
                "-c", "512", "-t", "1", "--lora", loraA.toString(), "--lora-scaled", loraB + ":0.7",
                "--lora-init-without-apply")) {
            String url = served.url();
            HttpClient http = HttpClient.newHttpClient();
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            java.util.function.BiFunction<String, String, com.fasterxml.jackson.databind.JsonNode> call = (path, body) -> {
                try {
                    HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(60));
                    HttpResponse<String> r = http.send(body == null ? rb.GET().build()
                            : rb.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), path + ": " + r.body());
                    return json.readTree(r.body());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            com.fasterxml.jackson.databind.JsonNode list = call.apply("/lora-adapters", null);
            assertEquals(2, list.size(), list.toString());
            assertEquals(loraA.toString(), list.get(0).get("path").asText(), "ids in command-line order");
            assertEquals(loraB.toString(), list.get(1).get("path").asText());
            assertEquals(0.0, list.get(0).get("scale").asDouble());
            assertEquals(0.0, list.get(1).get("scale").asDouble());
            String body = "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": " + N + ", \"temperature\": 0";
            assertEquals(plain, call.apply("/v1/completions", body + "}").get("choices").get(0).get("text").asText());
            assertEquals(withB, call.apply("/v1/completions", body + ", \"lora\": [{\"id\": 1, \"scale\": 0.5}]}")
                    .get("choices").get(0).get("text").asText());
            call.apply("/lora-adapters", "[{\"id\": 0, \"scale\": 1}]");
            assertEquals(withA, call.apply("/v1/completions", body + "}").get("choices").get(0).get("text").asText());
            assertTrue(served.stderr().contains("loaded 2 LoRA adapters (LoRA at scale 0"), served.stderr());
        }
    }

    /** A failed run: the exit status, one {@code error:} line first, no stack trace, nothing on stdout. */
    static String fails(int exit, String... flags) {
        List<String> args = new ArrayList<>(List.of("generate", "-m", base.toString(), "-p", PROMPT, "-n", "4",
                "--temp", "0", "-t", "1"));
        args.addAll(List.of(flags));
        CliTestSupport.Result r = CliTestSupport.runCli(tmp.resolve("bad"), args.toArray(String[]::new));
        assertEquals(exit, r.exitCode(), r::describe);
        assertTrue(r.stderrLines().get(0).startsWith("error: "), r::describe);
        assertFalse(r.stderr().contains("\tat ") || r.stderr().contains("Exception"), r::describe);
        assertTrue(r.stderrLines().size() <= (exit == 1 ? 2 : 8), r::describe);
        assertEquals("", r.stdout(), r::describe);
        assertTrue(CliTestSupport.hsErrFiles(tmp.resolve("bad")).isEmpty(), "no JVM crash");
        return r.stderrLines().get(0);
    }

    @Test
    void badFilesAreOneLineErrors() {
        Path missing = tmp.resolve("missing.gguf");
        assertEquals("error: --lora " + missing + ": no such file", fails(1, "--lora", missing.toString()));
        assertTrue(fails(1, "--control-vector-scaled", missing + ":0.5").contains("no such file"));
        assertTrue(fails(1, "--lora", tmp.toString()).contains("is a directory"));
        Path otherArch = AdapterFiles.writeLora(tmp.resolve("qwen2-lora.gguf"), "qwen2", SHAPE, 4, 8f, 3);
        assertTrue(fails(1, "--lora", otherArch.toString()).contains("architecture 'qwen2'"));
        Path wider = AdapterFiles.writeLora(tmp.resolve("wide-lora.gguf"), "llama", new ModelShape(128, 4, 4, 2, 256, 512),
                4, 8f, 4);
        assertTrue(fails(1, "--lora", wider.toString()).contains("made for another model"));
        assertTrue(fails(1, "--lora", cv.toString()).contains("not an adapter"), "a control vector is not a LoRA");
        Path narrow = AdapterFiles.writeControlVector(tmp.resolve("cv-32.gguf"), 32, 4, 1, 1f);
        assertTrue(fails(1, "--control-vector", narrow.toString()).contains("made for another model"));
        assertTrue(fails(1, "--control-vector", base.toString()).contains("direction tensor"), "a model is not a control vector");
    }

    @Test
    void badValuesAreUsageErrors() {
        assertTrue(fails(2, "--lora-scaled", loraA + ":lots").contains("FNAME:SCALE"));
        assertTrue(fails(2, "--lora-scaled", loraA.toString()).contains("FNAME:SCALE"));
        assertTrue(fails(2, "--lora-scaled", loraA + ":0.5,").contains("FNAME:SCALE"));
        assertTrue(fails(2, "--control-vector-scaled", cv + ":NaN").contains("FNAME:SCALE"));
        assertTrue(fails(2, "--lora").contains("--lora"));
        assertTrue(fails(2, "--control-vector-layer-range", "1", "2").contains("needs --control-vector"));
        assertTrue(fails(2, "--control-vector", cv.toString(), "--control-vector-layer-range", "1").contains("layer-range"));
        assertTrue(fails(2, "--control-vector", cv.toString(), "--control-vector-layer-range", "2", "9")
                .contains("1..4"));
        assertTrue(fails(2, "--control-vector", cv.toString(), "--control-vector-layer-range", "3", "2")
                .contains("START <= END"));
    }
}
