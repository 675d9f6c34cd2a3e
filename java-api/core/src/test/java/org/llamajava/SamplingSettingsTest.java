package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SamplingSettings}: its defaults are llama.cpp's own ({@code common_params_sampling} in the
 * pinned source's {@code common/common.h}, what llama-server starts from), the chain it builds has
 * llama.cpp's stages in llama-server's order, and seeds are {@code long}, of which llama.cpp uses the
 * low 32 bits.
 */
class SamplingSettingsTest {
    @TempDir
    static Path tmp;

    /** A field's initialiser in common_params_sampling, e.g. {@code float temp = 0.80f;}. */
    private static String commonDefault(String header, String field) {
        Matcher m = Pattern.compile("\\b" + field + "\\s*=\\s*([-0-9.]+)f?\\s*;").matcher(header);
        assertTrue(m.find(), "common.h has no default for " + field);
        return m.group(1);
    }

    @Test
    void defaultsAreLlamaCppsCommonSamplingDefaults() throws Exception {
        String header = Files.readString(TestSupport.llamaSource().resolve("common/common.h"));
        header = header.substring(header.indexOf("struct common_params_sampling"));
        SamplingSettings d = SamplingSettings.defaults();
        assertEquals(Float.parseFloat(commonDefault(header, "temp")), d.temperature());
        assertEquals(Integer.parseInt(commonDefault(header, "top_k")), d.topK());
        assertEquals(Float.parseFloat(commonDefault(header, "top_p")), d.topP());
        assertEquals(Float.parseFloat(commonDefault(header, "min_p")), d.minP());
        assertEquals(Integer.parseInt(commonDefault(header, "penalty_last_n")), d.penaltyLastN());
        assertEquals(Float.parseFloat(commonDefault(header, "penalty_repeat")), d.repeatPenalty());
        assertEquals(Float.parseFloat(commonDefault(header, "penalty_freq")), d.frequencyPenalty());
        assertEquals(Float.parseFloat(commonDefault(header, "penalty_present")), d.presencePenalty());
        assertTrue(header.contains("uint32_t seed = LLAMA_DEFAULT_SEED;"), "llama.cpp's seed is random by default");
        assertEquals(SamplingSettings.RANDOM_SEED, d.seed());
        assertEquals(Sampler.RANDOM_SEED, d.nativeSeed());
        assertTrue(d.logitBias().isEmpty());
    }

    private static List<String> stages(SamplingSettings s) {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp)); Sampler sampler = s.samplerBuilder().build(m)) {
            return sampler.stageNames();
        }
    }

    @Test
    void theChainHasLlamaServersStagesAndLeavesOutWhatIsOff() {
        assertEquals(List.of("top-k", "top-p", "min-p", "temp", "dist"), stages(SamplingSettings.defaults()));
        assertEquals(List.of("greedy"), stages(SamplingSettings.builder().temperature(0).build()));
        assertEquals(List.of("greedy"), stages(SamplingSettings.builder().topP(0).build()), "llama-server: top_p 0 is greedy");
        assertEquals(List.of("temp", "dist"),
                stages(SamplingSettings.builder().topK(0).topP(1).minP(0).build()));
        assertEquals(List.of("penalties", "top-k", "top-p", "min-p", "temp", "dist"),
                stages(SamplingSettings.builder().presencePenalty(0.5f).build()));
    }

    @Test
    void seedsAreLongAndLlamaCppTakesTheirLow32Bits() {
        SamplingSettings s = SamplingSettings.builder().seed(5).build();
        assertEquals(5, s.nativeSeed());
        assertEquals(5, s.withSeed(5 + (1L << 32)).nativeSeed());
        assertEquals(SamplingSettings.RANDOM_SEED, s.withSeed(SamplingSettings.RANDOM_SEED).seed());
        // the same low 32 bits draw the same tokens, other seeds (almost surely) others
        Path model = TestSupport.writeTinyModel(tmp);
        try (Model m = Model.load(model)) {
            SamplingSettings hot = SamplingSettings.builder().temperature(3f).topK(0).topP(1f).minP(0f).build();
            String a = draw(m, hot.withSeed(7));
            assertEquals(a, draw(m, hot.withSeed(7 + (1L << 32))));
            assertNotEquals(a, draw(m, hot.withSeed(8)));
        }
    }

    private static String draw(Model m, SamplingSettings s) {
        try (Context ctx = m.createContext(ContextParams.builder().contextSize(128).build());
             Sampler sampler = s.samplerBuilder().build(m)) {
            return ctx.generate(m.vocabulary().tokenize("Once upon a time"), sampler, 24, null).text();
        }
    }

    @Test
    void badValuesAreRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SamplingSettings.builder().topP(1.5f).build());
        assertTrue(e.getMessage().contains("topP"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SamplingSettings.builder().minP(1f).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingSettings.builder().topK(-1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingSettings.builder().temperature(Float.NaN).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingSettings.builder().repeatPenalty(0).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingSettings.builder().logitBias(-3, 1f).build());
    }
}
