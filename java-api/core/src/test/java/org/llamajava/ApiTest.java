package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.GgufFile;
import org.llamajava.internal.Utf8Stream;

/** The first API slice on real and written models. */
class ApiTest {

    @TempDir
    Path tmp;

    @Test
    void stories260kMetadata() {
        Path p = TestSupport.sharedModel("stories260K.gguf");
        GgufFile g = GgufFile.read(p);
        try (Model m = Model.load(p)) {
            assertEquals("llama", m.architecture());
            assertEquals(g.getString("general.architecture"), m.architecture());
            // the shared models' README: 292,800 parameters, all F32, n_ctx_train 2048
            assertEquals(292_800, m.parameterCount());
            assertEquals(292_800L * 4, m.sizeBytes());
            assertEquals(2048, m.trainingContextLength());
            assertEquals(((Number) g.metadata().get("llama.context_length")).intValue(), m.trainingContextLength());
            assertNull(m.chatTemplate());
            // llama.cpp lists every key but the long arrays (the vocabulary's tokens, scores, types)
            for (var e : g.metadata().entrySet()) {
                assertEquals(!(e.getValue() instanceof List<?> l && l.size() > 100),
                        m.metadata().containsKey(e.getKey()), e.getKey());
            }
            assertEquals("llama", m.metadata("general.architecture"));
            assertNull(m.metadata("no.such.key"));
            Vocabulary v = m.vocabulary();
            assertEquals(512, v.size());
            assertEquals(1, v.bos());
            assertEquals(2, v.eos());
            assertTrue(v.isEndOfGeneration(v.eos()));
            assertFalse(v.isEndOfGeneration(100));
            assertTrue(v.tokenAttributes(v.bos()).contains(TokenAttribute.CONTROL));
            assertTrue(v.tokenAttributes(300).contains(TokenAttribute.NORMAL));
            assertTrue(v.tokenAttributes(100).contains(TokenAttribute.BYTE), "ids 3..258 are <0xXX> byte tokens");
            assertEquals(g.metadata().get("tokenizer.ggml.tokens") instanceof List<?> l ? l.get(100) : null,
                    v.tokenText(100));
        }
    }

    @Test
    void logitsAreReadInPlaceAndGreedyTakesTheirArgmax() {
        Path p = TestSupport.writeTinyModel(tmp);
        try (Model m = Model.load(p);
             Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
             Sampler greedy = Sampler.greedy()) {
            ctx.decode(m.vocabulary().tokenize("Once upon a time"));
            FloatBuffer a = ctx.logits();
            FloatBuffer b = ctx.logits();
            assertTrue(a.isDirect(), "a view of native memory, not a copy");
            assertEquals(m.vocabulary().size(), a.remaining());
            int argmax = 0;
            for (int i = 1; i < a.remaining(); i++) {
                if (a.get(i) > a.get(argmax)) {
                    argmax = i;
                }
            }
            assertEquals(a.get(argmax), b.get(argmax));
            assertEquals(argmax, greedy.sample(ctx));
            // after the next decode the same view shows the new logits (in place)
            float before = a.get(argmax);
            ctx.decode(new int[] {argmax});
            assertNotEquals(before, a.get(argmax));
        }
    }

    @Test
    void seededSamplingIsReproducible() {
        Path p = TestSupport.writeTinyModel(tmp);
        try (Model m = Model.load(p)) {
            int[] prompt = m.vocabulary().tokenize("Once upon a time");
            int[] a = sample(m, prompt, 1234);
            int[] b = sample(m, prompt, 1234);
            int[] c = sample(m, prompt, 999);
            assertArrayEquals(a, b, "same seed, same tokens");
            assertFalse(java.util.Arrays.equals(a, c), "another seed, other tokens");
        }
    }

    private static int[] sample(Model m, int[] prompt, int seed) {
        try (Context ctx = m.createContext(ContextParams.builder().contextSize(128).build());
             Sampler s = Sampler.builder().temperature(1.5f).topK(0).topP(1f).minP(0f).seed(seed).build()) {
            return ctx.generate(prompt, s, 40, null).tokens();
        }
    }

    @Test
    void utf8PiecesAreNeverSplit() {
        Utf8Stream u = new Utf8Stream();
        byte[] llama = "🦙".getBytes(java.nio.charset.StandardCharsets.UTF_8); // 4 bytes
        byte[] ni = "你".getBytes(java.nio.charset.StandardCharsets.UTF_8); // 3 bytes
        assertEquals("", u.push(llama, 0, 1));
        assertEquals("", u.push(llama, 1, 2));
        assertEquals("🦙", u.push(llama, 3, 1));
        byte[] mixed = ("a" + "你").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals("a", u.push(mixed, 0, 2));
        assertEquals("你", u.push(ni, 1, 2));
        assertEquals("", u.push(llama, 0, 2));
        assertEquals("\uFFFD", u.flush(), "an unfinished character is flushed as a replacement");
        assertEquals("x\uFFFDy", u.push(new byte[] {'x', (byte) 0x80, 'y'}, 0, 3));
    }

    @Test
    void streamedTextNeverSplitsACharacter() {
        // the written vocabulary is mostly byte tokens, so random sampling emits partial UTF-8
        Path p = TestSupport.writeTinyModel(tmp);
        int multiByteRuns = 0;
        try (Model m = Model.load(p)) {
            for (int seed = 1; seed <= 8; seed++) {
                try (Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
                     Sampler s = Sampler.builder().temperature(3f).topK(0).topP(1f).minP(0f).seed(seed).build()) {
                    List<String> streamed = new ArrayList<>();
                    Completion c = ctx.generate(m.vocabulary().tokenize("Once"), s, 100, streamed::add);
                    String whole = rawText(m, c.tokens());
                    assertEquals(whole, String.join("", streamed), "piece by piece equals all bytes at once");
                    assertEquals(whole, c.text());
                    if (whole.codePoints().anyMatch(cp -> cp > 0x7f && cp != 0xFFFD)) {
                        multiByteRuns++;
                    }
                }
            }
        }
        assertTrue(multiByteRuns > 0, "some run produced a multi-byte character from byte tokens");
    }

    /** The UTF-8 decoding of all the tokens' raw piece bytes at once. */
    private static String rawText(Model m, int[] tokens) {
        java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
        try (org.bytedeco.javacpp.BytePointer buf = new org.bytedeco.javacpp.BytePointer(64)) {
            for (int t : tokens) {
                if (!m.vocabulary().isEndOfGeneration(t)) {
                    int n = m.vocabulary().tokenToPiece(t, buf, 64, true);
                    byte[] b = new byte[n];
                    buf.get(b, 0, n);
                    raw.writeBytes(b);
                }
            }
        }
        return raw.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void byteFallbackRoundTrip() {
        Path p = TestSupport.writeTinyModel(tmp);
        try (Model m = Model.load(p)) {
            int[] ids = m.vocabulary().tokenize("🦙你好", false, false);
            assertTrue(ids.length >= 10, "emoji and CJK fall back to byte tokens");
            assertEquals("🦙你好", m.vocabulary().detokenize(ids, false, false).strip());
        }
    }

    @Test
    void devicesAndGpuFallback() {
        List<Device> devices = Llama.devices();
        Device cpu = devices.stream().filter(d -> d.type() == Device.Type.CPU).findFirst().orElseThrow();
        assertTrue(cpu.memoryTotal() > 0, cpu.toString());
        assertEquals(devices.stream().anyMatch(Device::isGpu), Llama.hasGpu());
        // asking for GPU layers where there is no GPU runs on the CPU instead of failing
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp), ModelParams.builder().gpuLayers(99)
                .splitMode(SplitMode.NONE).mainGpu(0).tensorSplit(1f).build());
             Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
             Sampler g = Sampler.greedy()) {
            assertEquals(3, ctx.generate(m.vocabulary().tokenize("Once"), g, 3, null).tokens().length);
        }
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().tensorSplit(-1f).build());
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().mainGpu(-1).build());
    }

    @Test
    void nativeLogGoesToSystemLogger() {
        Logger jul = Logger.getLogger(Llama.NATIVE_LOGGER);
        Level old = jul.getLevel();
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        jul.setLevel(Level.ALL);
        jul.addHandler(h);
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp))) {
            assertTrue(records.stream().anyMatch(r -> r.getMessage().contains("llama_model_load")
                    || r.getMessage().contains("print_info")), "llama.cpp's load log arrives as log records");
            assertTrue(records.stream().noneMatch(r -> r.getMessage().endsWith("\n")), "one record per line");
        } finally {
            jul.removeHandler(h);
            jul.setLevel(old);
        }
    }
}
