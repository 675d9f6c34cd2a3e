package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Infill prompts against llama-server's own formatting: {@code llamajava-infill} runs
 * {@code format_prompt_infill} from the pinned source's {@code tools/server/server-common.cpp}
 * (compiled unchanged into the tool) on the same request and vocabulary.
 */
class InfillOracleTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    /** FIM prefix/suffix/middle, and the repository-level tokens, in a written tiny model. */
    static final List<String> FIM = TestSupport.FIM_TOKENS;

    static synchronized Path fimModel() {
        Path p = tmp.resolve("fim-tiny.gguf");
        return Files.exists(p) ? p : TestSupport.writeFimModel(p);
    }

    record Req(String prefix, String suffix, List<InfillChunk> extra, String prompt, int nCtx, int nBatch, int nPredict,
               boolean spm) {
        Infill infill() {
            return Infill.builder().prefix(prefix).suffix(suffix).extra(extra).prompt(prompt).predictBudget(nPredict)
                    .suffixFirst(spm).build();
        }

        String json() throws Exception {
            ObjectNode o = JSON.createObjectNode().put("input_prefix", prefix).put("input_suffix", suffix).put("prompt", prompt)
                    .put("n_ctx", nCtx).put("n_batch", nBatch).put("n_predict", nPredict).put("spm_infill", spm);
            ArrayNode a = o.putArray("input_extra");
            for (InfillChunk c : extra) {
                a.addObject().put("filename", c.filename()).put("text", c.text());
            }
            return JSON.writeValueAsString(o);
        }
    }

    static final String PREFIX = "import math\n\ndef area(r):\n    \"\"\"The area of a circle.\"\"\"\n    ";
    static final String SUFFIX = "\n    return a\n\nprint(area(2.0))\n";
    static final List<InfillChunk> EXTRA = List.of(new InfillChunk("util.py", "def square(x):\n    return x * x\n"),
            new InfillChunk("README.md", "# Circles\nHelpers for circles.\n"));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String vocab : List.of("deepseek-coder", "starcoder", "refact", "written")) {
            out.add(Arguments.of(vocab, new Req(PREFIX, SUFFIX, List.of(), "", 4096, 2048, -1, false)));
            out.add(Arguments.of(vocab, new Req(PREFIX, SUFFIX, EXTRA, "a = math.pi", 4096, 2048, -1, false)));
            out.add(Arguments.of(vocab, new Req(PREFIX, SUFFIX, EXTRA, "", 4096, 2048, 128, true)));
            // small budgets: the prefix keeps its end, the suffix its start, the extra context its end
            out.add(Arguments.of(vocab, new Req(PREFIX.repeat(3), SUFFIX.repeat(3), EXTRA, "a =", 96, 40, 4, false)));
            out.add(Arguments.of(vocab, new Req("", "", List.of(new InfillChunk("tmp", "x")), "", 64, 64, -1, false)));
        }
        return out.stream();
    }

    static Path vocabulary(String name) {
        return name.equals("written") ? fimModel() : TestSupport.llamaSource().resolve("models/ggml-vocab-" + name + ".gguf");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void tokensEqualLlamaServerFormatting(String vocab, Req req) throws Exception {
        Path model = vocabulary(vocab);
        Path request = Files.createTempFile(tmp, "req", ".json");
        Files.writeString(request, req.json());
        TestSupport.Run r = TestSupport.runTool("llamajava-infill", model.toString(), request.toString());
        assertEquals(0, r.exitCode(), "llamajava-infill failed: " + r.stderr());
        int[] expected = JSON.readValue(r.stdout().strip(), int[].class);
        try (Model m = Model.load(model, ModelParams.builder().vocabOnly(true).build())) {
            int[] actual = req.infill().tokens(m.vocabulary(), req.nCtx(), req.nBatch());
            assertArrayEquals(expected, actual, "llama-server formats differently: " + java.util.Arrays.toString(expected));
            assertEquals(m.vocabulary().fimMiddle(), actual[actual.length - 1]);
        }
    }

    @Test
    void writtenModelHasRepositoryLevelTokens() {
        try (Model m = Model.load(fimModel(), ModelParams.builder().vocabOnly(true).build())) {
            Vocabulary v = m.vocabulary();
            assertTrue(v.fimRepo() != Vocabulary.NO_TOKEN && v.fimSeparator() != Vocabulary.NO_TOKEN
                    && v.fimPad() != Vocabulary.NO_TOKEN, "the repository-level path is exercised");
        }
    }

    @Test
    void infillGeneratesFromTheFormattedPrompt() {
        Infill req = Infill.builder().prefix("Once upon a ").suffix(" the end.").extra(EXTRA.get(0)).build();
        try (Model m = Model.load(fimModel());
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).batchSize(128).sequences(2).build());
             Sequence a = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            Completion c = a.infill(req, greedy, GenerateOptions.maxTokens(12));
            int[] prompt = req.tokens(m.vocabulary(), ctx.contextSize(), ctx.batchSize());
            assertArrayEquals(prompt, java.util.Arrays.copyOf(a.tokens(), prompt.length), "the sequence holds the infill prompt");
            try (Sequence b = ctx.newSequence()) {
                assertArrayEquals(c.tokens(), b.generate(prompt, greedy, GenerateOptions.maxTokens(12)).tokens());
            }
        }
    }

    @Test
    void modelWithoutFimTokensIsAClearError() {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp));
             Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
             Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> s.infill(Infill.builder().prefix("a").suffix("b").build(), greedy, GenerateOptions.maxTokens(4)));
            assertTrue(e.getMessage().contains("prefix token is missing"), e.getMessage());
        }
    }
}
