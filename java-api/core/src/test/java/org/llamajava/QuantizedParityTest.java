package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llamajava.quantize.Quantizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Greedy generation on the quantized formats that ggml's extra CPU buffer types take (weight
 * repacking everywhere, Intel AMX kernels where the CPU has AMX): Q4_0, Q8_0 and Q4_K_M of a random
 * model in Llama-3.2-1B's layer shape (2048 wide, 32 heads, 8 KV heads, n_ff 8192; one block),
 * quantized by llama-java's {@link Quantizer}. The oracle is {@code llama-completion --no-repack},
 * llama.cpp's plain kernels: {@link Sequence#generate} with the default {@link ModelParams} (extra
 * buffer types on: on an AMX machine this runs the AMX kernels), with
 * {@link ModelParams#extraBufferTypes()} off, and the batching engine must equal it token for token.
 * A prompt of more than 32 tokens takes ggml's AMX tile kernels (where ggml's AMX tile configuration
 * crashed), and the tokens after it the single-row ones.
 *
 * <p>The weights' spread is 16 times the default, so that the logits have clear leaders: with flat
 * logits (spread 4, Q4_K_M) ggml's repacked kernels and its plain ones, whose float sums differ in
 * the last bits, pick different tokens after a few steps in llama-completion itself.
 */
class QuantizedParityTest {
    /** Llama-3.2-1B's widths: every matrix row a multiple of 256, so Q4_K_M keeps its k-quants. */
    static final ModelShape SHAPE = new ModelShape(2048, 1, 32, 8, 8192, 8192);
    static final String PROMPT = "Once upon a time there was a little girl and a dog. She was playing with the cat"
            + " and the boy. Lily and Tom played in the day and the dog was there.";
    static final int N = 12;

    @TempDir
    static Path tmp;
    static Path f32;

    @BeforeAll
    static void write() {
        f32 = tmp.resolve("llama1b-layer-f32.gguf");
        new LlamaModelWriter(SHAPE, TestSupport.tinyVocabulary()).seed(17).scale(16f).write(f32);
    }

    static Path quantize(String type) {
        Path out = tmp.resolve("llama1b-layer-" + type + ".gguf");
        if (!out.toFile().exists()) {
            Quantizer.builder(type).threads(2).build().quantize(f32, out);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q4_0, Q4_0", "Q8_0, Q8_0", "Q4_K_M, Q4_K"})
    void greedyEqualsLlamaCompletionWithoutRepacking(String type, String matrixType) throws Exception {
        Path model = quantize(type);
        GgufFile gguf = GgufFile.read(model);
        String stored = gguf.tensors().stream().filter(t -> t.name().equals("blk.0.ffn_up.weight")).findFirst()
                .orElseThrow().type().name();
        assertTrue(matrixType.equalsIgnoreCase(stored), "the model's matrices are " + matrixType + ", not " + stored);
        String expected = TestSupport.llamaCompletionText(model, PROMPT, N, "--no-repack");
        assertTrue(expected.length() > 0, "llama-completion generates text");
        assertEquals(expected, TestSupport.llamaCompletionText(model, PROMPT, N),
                "llama-completion with its extra buffer types gives the same text (else the logits are too flat)");

        List<String> mismatches = new ArrayList<>();
        for (boolean extra : new boolean[] {true, false}) {
            try (Model m = Model.load(model, ModelParams.builder().extraBufferTypes(extra).build())) {
                int[] prompt = m.vocabulary().tokenize(PROMPT, true, true);
                assertTrue(prompt.length > 32, "the prompt takes the AMX tile kernels: " + prompt.length + " tokens");
                String generated;
                try (Context ctx = m.createContext(ContextParams.builder().contextSize(256).threads(2).build());
                     Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                    generated = s.generate(prompt, greedy, GenerateOptions.maxTokens(N)).text();
                }
                if (!expected.equals(generated)) {
                    mismatches.add("generate, extraBufferTypes " + extra + ": '" + generated + "'");
                }
                if (extra) {
                    try (BatchEngine engine = BatchEngine.start(m, EngineParams.builder().slots(2).contextSize(512)
                            .threads(2).build())) {
                        String batched = engine.submit(BatchRequest.of(prompt, GenerateOptions.maxTokens(N)))
                                .completion().join().text();
                        if (!expected.equals(batched)) {
                            mismatches.add("batching engine: '" + batched + "'");
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), mismatches, "llama-completion --no-repack gave '" + expected + "'");
    }

    @Test
    void extraBufferTypesAreReportedAndCanBeTurnedOff() throws Exception {
        List<String> extra = Llama.cpuExtraBufferTypes();
        // the oracle: the buffers llama.cpp loads a Q4_0 model's matrices into, with repacking on
        TestSupport.Run r = TestSupport.runTool("llama-completion", "-m", quantize("Q4_0").toString(), "-p", "a", "-n",
                "1", "-t", "1", "-no-cnv", "--no-warmup");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(r.stderr().contains("AMX model buffer size"), extra.contains("AMX"),
                "AMX is offered exactly where llama.cpp uses it: " + extra + "\n" + r.stderr());
        if (r.stderr().contains("CPU_REPACK model buffer size")) {
            assertTrue(extra.contains("CPU_REPACK"), extra + "\n" + r.stderr());
        }
        assertEquals(extra.contains("AMX"), Llama.amxUsed());
        String info = Llama.systemInfo();
        assertTrue(info.contains("AMX_USED = " + (Llama.amxUsed() ? 1 : 0) + " | "), info);
        assertTrue(info.contains("EXTRA_BUFFER_TYPES = " + (extra.isEmpty() ? "none" : String.join(",", extra))), info);
        // ggml's own word on AMX: the CPU backend reports AMX_INT8 only when built with it, and the
        // AMX buffer type needs that
        if (Llama.amxUsed()) {
            assertTrue(info.contains("AMX_INT8 = 1"), info);
        }
        assertTrue(ModelParams.defaults().extraBufferTypes(), "llama.cpp's default: extra buffer types on");
        assertEquals(false, ModelParams.builder().extraBufferTypes(false).build().extraBufferTypes());
    }
}
