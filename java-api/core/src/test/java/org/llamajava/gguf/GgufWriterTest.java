package org.llamajava.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.FinishReason;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;

/** The GGUF writer: what it writes reads back equal, and a model it writes loads and runs. */
class GgufWriterTest {

    @TempDir
    Path tmp;

    @Test
    void metadataAndTensorsReadBackEqual() {
        Path f = tmp.resolve("kv.gguf");
        float[] data = {1.5f, -2f, 3.25f, 0f, 7f, -0.5f};
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.architecture", "llama")
                    .putString("test.unicode", "héllo 🦙 世界")
                    .putUInt32("test.u32", 4_000_000_000L)
                    .putInt32("test.i32", -7)
                    .putUInt64("test.u64", 1L << 40)
                    .putFloat32("test.f32", 0.25f)
                    .putBool("test.bool", true)
                    .putStringArray("test.strings", List.of("a", "", "ü"))
                    .putFloat32Array("test.floats", new float[] {1f, 2.5f})
                    .putInt32Array("test.ints", new int[] {3, -4, 5})
                    .addTensor("t.weight", GgmlType.F32, new long[] {3, 2}, b -> {
                        for (float v : data) {
                            b.putFloat(v);
                        }
                    });
            w.write(f);
        }
        GgufFile g = GgufFile.read(f);
        assertEquals("llama", g.metadata().get("general.architecture"));
        assertEquals("héllo 🦙 世界", g.metadata().get("test.unicode"));
        assertEquals(4_000_000_000L, g.metadata().get("test.u32"));
        assertEquals(-7, g.metadata().get("test.i32"));
        assertEquals(1L << 40, g.metadata().get("test.u64"));
        assertEquals(0.25f, g.metadata().get("test.f32"));
        assertEquals(true, g.metadata().get("test.bool"));
        assertEquals(List.of("a", "", "ü"), g.metadata().get("test.strings"));
        assertEquals(List.of(1f, 2.5f), g.metadata().get("test.floats"));
        assertEquals(List.of(3, -4, 5), g.metadata().get("test.ints"));
        assertEquals(1, g.tensors().size());
        GgufFile.TensorInfo t = g.tensors().get(0);
        assertEquals("t.weight", t.name());
        assertEquals(GgmlType.F32.id(), t.type().id());
        assertArrayEquals(new long[] {3, 2}, t.shape());
        assertEquals(24, t.sizeBytes());
    }

    @Test
    void writtenModelLoadsTokenizesAndGenerates() {
        Path f = TestSupport.writeTinyModel(tmp);
        GgufFile g = GgufFile.read(f);
        ModelShape s = ModelShape.tiny();
        assertEquals((long) s.embedding(), g.metadata().get("llama.embedding_length"));
        assertEquals(3 + s.layers() * 9, g.tensors().size());
        try (Model m = Model.load(f)) {
            assertEquals("llama", m.architecture());
            assertEquals(s.embedding(), m.embeddingSize());
            assertEquals(s.layers(), m.layerCount());
            assertEquals(TestSupport.tinyVocabulary().size(), m.vocabulary().size());
            long expectedParams = (long) s.embedding() * m.vocabulary().size() * 2 + s.embedding()
                    + (long) s.layers() * (2L * s.embedding() + 2L * s.embedding() * s.embedding()
                    + 2L * s.embedding() * s.headSize() * s.kvHeads() + 3L * s.embedding() * s.feedForward());
            assertEquals(expectedParams, m.parameterCount());
            // tokenization round trip, including bytes not in the vocabulary (byte fallback)
            String text = "Once upon a time, the girl 🦙 played.";
            int[] ids = m.vocabulary().tokenize(text, true, false);
            assertEquals(m.vocabulary().bos(), ids[0]);
            // SentencePiece's space prefix stays in the detokenized text, as in llama.cpp
            assertEquals(" " + text, m.vocabulary().detokenize(ids, true, false));
            try (Context ctx = m.createContext(ContextParams.builder().contextSize(128).build());
                 Sampler sampler = Sampler.greedy()) {
                Completion c = ctx.generate(ids, sampler, 10, null);
                assertTrue(c.tokens().length > 0);
                assertEquals(ids.length + (c.finishReason() == FinishReason.MAX_TOKENS ? c.tokens().length - 1
                        : c.tokens().length - 1), ctx.position());
            }
        }
    }

    @Test
    void f16WeightsRoundTripThroughHalf() {
        assertEquals((short) 0x3c00, Half.fromFloat(1f));
        assertEquals((short) 0xc000, Half.fromFloat(-2f));
        assertEquals((short) 0x7bff, Half.fromFloat(65504f));
        assertEquals((short) 0x7c00, Half.fromFloat(1e6f));
        assertEquals((short) 0x0001, Half.fromFloat(5.9604645e-8f));
        assertEquals((short) 0x3555, Half.fromFloat(1f / 3));
        Path f = tmp.resolve("f16.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).weightType(GgmlType.F16).write(f);
        GgufFile g = GgufFile.read(f);
        assertEquals("f16", g.tensors().stream().filter(t -> t.name().equals("blk.0.attn_q.weight"))
                .findFirst().orElseThrow().type().name());
        try (Model m = Model.load(f)) {
            assertTrue(m.description().contains("F16"), m.description());
        }
    }

    @Test
    void writerRejectsBadTensors() {
        try (GgufWriter w = new GgufWriter()) {
            w.addTensor("a", GgmlType.F32, new long[] {4}, b -> {});
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.F32, new long[] {4}, b -> {}));
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("b", GgmlType.F32, new long[] {0}, b -> {}));
            assertThrows(IllegalArgumentException.class, () -> w.addTensor("c", GgmlType.Q8_0, new long[] {33}, b -> {}));
            assertThrows(IllegalArgumentException.class,
                    () -> w.addTensor("x".repeat(64), GgmlType.F32, new long[] {4}, b -> {}));
            assertThrows(IllegalArgumentException.class, () -> w.putString("k", "nul\0inside"));
        }
    }

    /** Metadata read by GgufFile is written back by putValue with the same types, so a file can be copied. */
    @Test
    void putValueWritesBackWhatGgufFileReads() {
        java.util.Map<String, Object> values = new java.util.LinkedHashMap<>();
        values.put("general.architecture", "llama");
        values.put("a.u32", 4_000_000_000L);
        values.put("a.i32", -7);
        values.put("a.f32", 0.25f);
        values.put("a.bool", true);
        values.put("a.strings", java.util.List.of("x", "y"));
        values.put("a.ints", java.util.List.of(1, -2, 3));
        values.put("a.floats", java.util.List.of(1.5f, -2.5f));
        Path f = tmp.resolve("values.gguf");
        try (GgufWriter w = new GgufWriter()) {
            values.forEach(w::putValue);
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> w.putValue("a.empty", java.util.List.of()));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> w.putValue("a.double", 1.0));
            w.write(f);
        }
        java.util.Map<String, Object> read = GgufFile.read(f).metadata();
        values.forEach((k, v) -> assertEquals(v, read.get(k), k));
    }
}
