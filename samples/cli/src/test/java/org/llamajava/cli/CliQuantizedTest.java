package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CLI as a new user runs it on quantized models, where ggml's extra CPU buffer types (weight
 * repacking; Intel AMX kernels where the CPU has AMX) take over the matrix products: a random model
 * in Llama-3.2-1B's layer shape written by {@code write-model}, quantized by {@code quantize} to
 * Q4_0, Q8_0 and Q4_K_M. Greedy {@code generate} (with and without {@code --no-repack}), {@code chat}
 * and {@code serve} must give exactly the text of {@code llama-completion --no-repack} (llama.cpp's
 * plain kernels) for the same prompt; {@code --version} says whether AMX is used.
 *
 * <p>The model's weights have 64 times the default spread ({@code write-model --scale 64}): with
 * flatter logits ggml's repacked Q4_K kernels and its plain ones, whose float sums differ in the last
 * bits, already pick different tokens in llama-completion itself, which the test checks first.
 */
class CliQuantizedTest {
    private static final String SHAPE = "2048,1,32,8,8192";
    private static final String PROMPT = "the a and the a and eat tea the a and sea nose ten sat on a tin";
    private static final int N = 12;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path tmp;
    private static Path f16;

    @BeforeAll
    static void writeModel() {
        f16 = tmp.resolve("layer-f16.gguf");
        CliTestSupport.Result w = CliTestSupport.runCli(tmp, "write-model", "--shape", SHAPE, "--seed", "9", "--scale", "64", "-o",
                f16.toString());
        assertEquals(0, w.exitCode(), w::describe);
    }

    private static Path quantized(String type) {
        Path out = tmp.resolve("layer-" + type + ".gguf");
        if (!out.toFile().exists()) {
            CliTestSupport.Result q = CliTestSupport.runCli(tmp, "quantize", f16.toString(), out.toString(), type);
            assertEquals(0, q.exitCode(), q::describe);
        }
        return out;
    }

    /**
     * llama-completion's greedy continuation (with llama.cpp's plain kernels unless {@code repack}),
     * retried while its logger drops output.
     */
    private static String llamaCompletion(Path model, String prompt, boolean repack, String... extra) {
        List<String> args = new ArrayList<>(List.of("-m", model.toString(), "-p", prompt, "-n", Integer.toString(N),
                "--temp", "0", "--top-k", "1", "--seed", "1", "-t", "1", "-c", "512", "-no-cnv", "--no-display-prompt",
                "--simple-io", "--no-warmup", repack ? "--repack" : "--no-repack"));
        args.addAll(List.of(extra));
        for (int attempt = 0; attempt < 10; attempt++) {
            CliTestSupport.Result r = CliTestSupport.runTool("llama-completion", tmp.resolve("oracle-" + attempt),
                    args.toArray(String[]::new));
            assertEquals(0, r.exitCode(), r::describe);
            if (r.stdout().endsWith("\n\n") && r.stderr().contains("common_perf_print")) {
                String text = r.stdout().substring(0, r.stdout().length() - 2);
                String eot = " [end of text]\n";
                return text.endsWith(eot) ? text.substring(0, text.length() - eot.length()) : text;
            }
        }
        throw new AssertionError("llama-completion's output was cut short 10 times");
    }

    private static String generate(Path model, String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "-m", model.toString(), "-p", PROMPT, "-n",
                Integer.toString(N), "--temp", "0", "-t", "1", "-c", "512"));
        args.addAll(List.of(extra));
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::describe);
        return r.stdout().substring(0, r.stdout().length() - 1);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Q4_0", "Q8_0", "Q4_K_M"})
    void generateChatAndServeEqualLlamaCompletionWithoutRepacking(String type) throws Exception {
        Path model = quantized(type);
        String expected = llamaCompletion(model, PROMPT, false);
        assertTrue(!expected.isEmpty(), "llama-completion generates text");
        assertEquals(expected, llamaCompletion(model, PROMPT, true),
                "llama-completion with its extra buffer types gives the same text (else the logits are too flat)");
        assertEquals(expected, generate(model), "generate (extra buffer types on)");
        assertEquals(expected, generate(model, "--no-repack"), "generate --no-repack");

        // chat: one user turn in the built-in chatml template is llama-completion's continuation of the
        // templated prompt. llama-java renders a control token the model emits mid-reply (here BOS) as
        // its text, as llama-completion does with --special (without it, llama.cpp's tools drop it)
        String user = "the cat sat on a tin";
        String templated = "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
        CliTestSupport.Result chat = CliTestSupport.runCliWithInput(tmp, user + "\n", "chat", "-m", model.toString(),
                "--chat-template", "chatml", "--temp", "0", "-n", Integer.toString(N), "-t", "1", "-c", "512");
        assertEquals(0, chat.exitCode(), chat::describe);
        assertEquals(llamaCompletion(model, templated, false, "--special").strip(), chat.stdout().strip(), "chat's reply");

        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, "-m", model.toString(), "--port", "0", "-np", "2",
                "-c", "1024", "-t", "1")) {
            String body = new ObjectMapper().writeValueAsString(Map.of("prompt", PROMPT, "max_tokens", N,
                    "temperature", 0));
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(served.url() + "/v1/completions"))
                    .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(expected, new ObjectMapper().readTree(r.body()).get("choices").get(0).get("text").asText(),
                    "serve's completion");
        }
    }

    @Test
    void versionSaysWhetherAmxIsUsed() {
        CliTestSupport.Result v = CliTestSupport.runCli(tmp, "--version");
        assertEquals(0, v.exitCode(), v::describe);
        String line = v.stdout().lines().filter(l -> l.startsWith("CPU extra buffer types: ")).findFirst()
                .orElseThrow(() -> new AssertionError("no extra buffer types line\n" + v.describe()));
        boolean used = line.endsWith("; AMX: used (off with --no-repack)");
        assertTrue(used || line.endsWith("; AMX: not used"), line);
        // the oracle: llama.cpp loads a Q4_0 model's matrices into its AMX buffer exactly where AMX is used
        CliTestSupport.Result r = CliTestSupport.runTool("llama-completion", tmp.resolve("amx"), "-m",
                quantized("Q4_0").toString(), "-p", "a", "-n", "1", "-t", "1", "-no-cnv", "--no-warmup");
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals(r.stderr().contains("AMX model buffer size"), used,
                () -> "llama-completion's use of the AMX buffer\n" + line + "\n" + r.describe());
    }

    /** {@code bench} on each quantized model runs to its table: prompt processing takes the tile kernels. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Q4_0", "Q8_0", "Q4_K_M"})
    void benchRunsOnQuantizedModels(String type) {
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "bench", "-m", quantized(type).toString(), "-p", "64",
                "-n", "4", "-r", "1", "-t", "2");
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals(2 + 2, r.stdout().lines().filter(l -> l.startsWith("|")).count(), r::describe);
    }

    @Test
    void repackFlagsAreChecked() {
        CliTestSupport.Result both = CliTestSupport.runCli(tmp, "generate", "-m", f16.toString(), "-p", "a", "-n", "1",
                "--repack", "--no-repack");
        assertEquals(2, both.exitCode(), both::describe);
        assertTrue(both.stderr().contains("contradict"), both::describe);
    }
}
