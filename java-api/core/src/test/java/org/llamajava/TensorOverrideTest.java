package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * MoE expert placement: random-weight models in two real mixture-of-experts layouts (Mixtral-style
 * {@code llama} with experts, and {@code qwen3moe}) generate exactly what llama.cpp's
 * {@code llama-simple} generates, with and without tensor buffer-type overrides (on the CPU they
 * move nothing, so the text must not change); bad overrides are clear errors before loading.
 */
class TensorOverrideTest {
    @TempDir
    static Path tmp;

    private static final String PROMPT = "Once upon a time";
    private static final int N = 12;

    private static List<ModelParams> placements() {
        return List.of(ModelParams.defaults(),
                ModelParams.builder().cpuMoe().build(),
                ModelParams.builder().nCpuMoe(2).build(),
                ModelParams.builder().nCpuMoe(99).build(),
                ModelParams.builder().overrideTensor("blk\\.1\\.ffn_(up|down)_exps", "CPU")
                        .overrideTensors("ffn_gate_inp=CPU,token_embd=CPU").build());
    }

    @Test
    void mixtralStyleLlamaMatchesLlamaSimpleWithAndWithoutOverrides() throws Exception {
        assertAllMatch(MoeModels.mixtral(tmp, TestSupport.tinyVocabulary()));
    }

    @Test
    void qwen3moeMatchesLlamaSimpleWithAndWithoutOverrides() throws Exception {
        assertAllMatch(MoeModels.qwen3moe(tmp, TestSupport.tinyVocabulary()));
    }

    private static void assertAllMatch(Path model) throws Exception {
        TestSupport.Run oracle = TestSupport.runTool("llama-simple", "-m", model.toString(), "-n", Integer.toString(N),
                PROMPT);
        assertEquals(0, oracle.exitCode(), "llama-simple failed: " + oracle.stderr());
        for (ModelParams params : placements()) {
            try (Model m = Model.load(model, params);
                 Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
                 Sampler greedy = Sampler.greedy()) {
                assertTrue(m.metadata(m.architecture() + ".expert_count") != null, "an MoE model");
                int[] prompt = m.vocabulary().tokenize(PROMPT, true, true);
                Completion c = ctx.generate(prompt, greedy, N, null);
                StringBuilder pieces = new StringBuilder();
                for (int t : prompt) {
                    pieces.append(m.vocabulary().tokenPiece(t));
                }
                assertEquals(oracle.stdout(), pieces + c.text() + "\n", "with " + params);
            }
        }
    }

    @Test
    void badOverridesAreClearErrorsBeforeLoading() {
        Path moe = MoeModels.mixtral(tmp, TestSupport.tinyVocabulary());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Model.load(moe,
                ModelParams.builder().overrideTensor("ffn_nothing_here", "CPU").build()));
        assertTrue(e.getMessage().contains("matches no tensor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.load(moe,
                ModelParams.builder().overrideTensor("ffn_up_exps", "NO_SUCH_BUFFER").build()));
        assertTrue(e.getMessage().contains("unknown buffer type") && e.getMessage().contains("CPU"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().overrideTensor("blk.(", "CPU"));
        assertTrue(e.getMessage().contains("regular expression"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().overrideTensors("no-equals-sign"));
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().nCpuMoe(-1).build());

        Path dense = tmp.resolve("dense.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).write(dense);
        e = assertThrows(IllegalArgumentException.class, () -> Model.load(dense, ModelParams.builder().cpuMoe().build()));
        assertTrue(e.getMessage().contains("expert"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Model.load(dense, ModelParams.builder().nCpuMoe(1).build()));
    }

    @Test
    void parsesLlamaCppSyntax() {
        assertEquals(List.of(new TensorOverride("a", "CPU"), new TensorOverride("b\\.c", "RPC0")),
                TensorOverride.parse("a=CPU,b\\.c=RPC0"));
        assertTrue(new TensorOverride(TensorOverride.EXPERTS_PATTERN, "CPU").matches("blk.3.ffn_gate_exps.weight"));
        assertTrue(TensorOverride.expertsOfLayer(1).matches("blk.1.ffn_down_exps.weight"));
        assertTrue(!TensorOverride.expertsOfLayer(1).matches("blk.11.ffn_down_exps.weight"));
    }
}
