package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufException;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.GgufWriter;

/**
 * A matrix of corrupt GGUF files, made by editing a valid model's bytes field by field (see
 * {@link Layout}): every one gives an exception with a message from {@link GgufFile#read} (a
 * {@link GgufException}), {@link Model#load} and a vocab-only load (a {@link LlamaException}), and
 * the JVM survives (a native
 * crash would kill the forked test JVM and fail the build).
 *
 * <p>A few files are well-formed GGUF but not a loadable model (an unknown architecture, a
 * missing architecture key, a missing tensor): {@link GgufFile#read} reads those, since it only
 * reads metadata, and the loads fail; see {@link Expect}. Among them are metadata values that
 * llama.cpp checks with GGML_ASSERT, which aborts the process (block_count outside 1..512,
 * inconsistent expert counts, an unknown rope scaling type, duplicate token texts, a WordPiece
 * vocabulary with byte tokens): {@link Model#load} rejects those before llama.cpp sees them.
 */
class BadGgufMatrixTest {

    @TempDir
    static Path tmp;
    static Path model;
    static byte[] bytes;
    static Layout layout;

    /** Which readers must reject a case. */
    enum Expect {
        /** Not well-formed GGUF: all three readers fail. */
        ALL,
        /** Well-formed GGUF, but no model: GgufFile.read reads it; both loads fail. */
        LOADS,
        /** Metadata and vocabulary are fine, the weights are not: only the full load fails. */
        FULL_LOAD
    }

    record Case(byte[] data, Expect expect) {}

    @BeforeAll
    static void writeModel() throws IOException {
        model = TestSupport.writeTinyModel(tmp);
        bytes = Files.readAllBytes(model);
        layout = Layout.parse(bytes);
    }

    /** The test's own parser agrees with gguf.h about the valid file, so the edits hit the fields they name. */
    @Test
    void layoutMatchesGgufReader() {
        GgufFile g = GgufFile.read(model);
        assertEquals(g.metadata().size(), layout.kvs.size());
        assertEquals(List.copyOf(g.metadata().keySet()), layout.kvs.stream().map(Kv::key).toList());
        assertEquals(g.tensors().size(), layout.tensors.size());
        for (int i = 0; i < layout.tensors.size(); i++) {
            GgufFile.TensorInfo t = g.tensors().get(i);
            TensorEntry e = layout.tensors.get(i);
            assertEquals(t.name(), e.name());
            assertEquals(t.type().id(), e.type());
            assertEquals(t.offset(), e.offset());
            assertEquals(t.shape().length, e.dims().length, t.name());
        }
        assertEquals(g.dataOffset(), layout.dataStart);
        assertTrue(layout.dataStart > layout.infosEnd, "the tiny model's directory needs padding before the data");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptions")
    void corruptFileIsRejected(Case c) throws IOException {
        Path p = Files.write(tmp.resolve("case.gguf"), c.data());
        try {
            if (c.expect() == Expect.ALL) {
                rejects(GgufException.class, () -> GgufFile.read(p), p);
            } else {
                assertDoesNotThrow(() -> GgufFile.read(p), "well-formed GGUF metadata is readable");
            }
            if (c.expect() == Expect.FULL_LOAD) {
                try (Model m = assertDoesNotThrow(() -> Model.load(p, ModelParams.builder().vocabOnly(true).build()))) {
                    assertTrue(m.vocabulary().size() > 0);
                }
            } else {
                rejects(LlamaException.class, () -> Model.load(p, ModelParams.builder().vocabOnly(true).build()), p);
            }
            rejects(LlamaException.class, () -> Model.load(p), p);
        } finally {
            Files.deleteIfExists(p);
        }
        // the process still works after the failures
        try (Model m = Model.load(model, ModelParams.builder().vocabOnly(true).build())) {
            assertEquals(TestSupport.tinyVocabulary().size(), m.vocabulary().size());
        }
    }

    @ParameterizedTest(name = "truncated at {0}")
    @MethodSource("boundaries")
    void truncatedAtSectionBoundary(long at) throws IOException {
        Path p = Files.write(tmp.resolve("cut.gguf"), Arrays.copyOf(bytes, (int) at));
        try {
            rejects(GgufException.class, () -> GgufFile.read(p), p);
            rejects(LlamaException.class, () -> Model.load(p, ModelParams.builder().vocabOnly(true).build()), p);
            rejects(LlamaException.class, () -> Model.load(p), p);
        } finally {
            Files.deleteIfExists(p);
        }
    }

    /** Every section boundary is covered, so a change of the writer's layout cannot shrink the matrix unnoticed. */
    @Test
    void boundaryListCoversEverySection() {
        List<Long> b = boundaries().toList();
        assertTrue(b.contains(24L), "after the header");
        assertTrue(b.contains(layout.kvsEnd()), "after the last key/value");
        assertTrue(b.contains(layout.infosEnd), "after the last tensor info");
        assertTrue(b.contains(layout.dataStart), "at the start of the data");
        assertTrue(b.size() >= 3 * layout.kvs.size() + 5 * layout.tensors.size(), "" + b.size());
    }

    /** gguf.h aborts the process on a bad general.alignment, and ignores a good one when writing. */
    @Test
    void writerRefusesAnAlignmentItCannotWrite() throws IOException {
        try (GgufWriter w = new GgufWriter()) {
            for (long a : new long[] {0, 3, 64, 0xFFFF_FFFFL}) {
                assertThrows(IllegalArgumentException.class, () -> w.putUInt32("general.alignment", a));
            }
            assertThrows(IllegalArgumentException.class, () -> w.putString("general.alignment", "32"));
            assertThrows(IllegalArgumentException.class, () -> w.putInt32("general.alignment", 32));
            assertThrows(IllegalArgumentException.class, () -> w.putUInt64("general.alignment", 32));
            assertThrows(IllegalArgumentException.class, () -> w.putFloat32("general.alignment", 32));
            assertThrows(IllegalArgumentException.class, () -> w.putBool("general.alignment", true));
            assertThrows(IllegalArgumentException.class, () -> w.putInt32Array("general.alignment", new int[] {32}));
            assertThrows(IllegalArgumentException.class, () -> w.putFloat32Array("general.alignment", new float[] {32}));
            assertThrows(IllegalArgumentException.class, () -> w.putStringArray("general.alignment", List.of("32")));
            w.putUInt32("general.alignment", 32); // the alignment it writes with
            w.putString("general.architecture", "llama");
            w.addTensor("t", GgmlType.F32, new long[] {8}, buf -> { });
            Path p = tmp.resolve("aligned.gguf");
            w.write(p);
            GgufFile g = GgufFile.read(p);
            assertEquals(32, g.alignment());
            assertEquals(32L, g.metadata().get("general.alignment"));
        }
    }

    private static void rejects(Class<? extends RuntimeException> expected, Executable call, Path p) {
        Throwable t = assertThrows(Throwable.class, call);
        if (!expected.isInstance(t)) {
            throw new AssertionError("expected a " + expected.getSimpleName() + " for " + p + ", got " + t, t);
        }
        assertNotNull(t.getMessage());
        assertFalse(t.getMessage().isBlank());
    }

    // ---- the matrix --------------------------------------------------------------------------------

    static Stream<Long> boundaries() {
        List<Long> cuts = new ArrayList<>();
        cuts.add(24L); // after the header
        for (Kv kv : layout.kvs) {
            cuts.add(kv.typeOff()); // after the key string
            cuts.add(kv.valueOff()); // after the type
            if (kv.type() == Layout.ARRAY) {
                cuts.add(kv.valueOff() + 12); // after the element type and count
            }
            cuts.add(kv.end()); // after the value
        }
        for (TensorEntry t : layout.tensors) {
            cuts.add(t.nDimsOff()); // after the name
            cuts.add(t.dimsOff()); // after n_dims
            cuts.add(t.typeOff()); // after the dimensions
            cuts.add(t.offsetOff()); // after the type
            cuts.add(t.end()); // after the offset
        }
        cuts.add(layout.dataStart); // at the start of the data (only padding after the directory)
        return cuts.stream().distinct().sorted();
    }

    static Stream<Arguments> corruptions() throws IOException {
        Layout l = layout;
        Kv first = l.kvs.get(0);
        Kv arch = l.kv("general.architecture");
        Kv tokens = l.kv("tokenizer.ggml.tokens");
        Kv scores = l.kv("tokenizer.ggml.scores");
        TensorEntry t0 = l.tensors.get(0);
        TensorEntry last = l.tensors.get(l.tensors.size() - 1);
        long fileSize = bytes.length;
        List<Arguments> out = new ArrayList<>();

        // header
        add(out, "version 0", Expect.ALL, b -> u32(b, 4, 0));
        add(out, "version 1 (GGUFv1)", Expect.ALL, b -> u32(b, 4, 1));
        add(out, "version 4 (future)", Expect.ALL, b -> u32(b, 4, 4));
        add(out, "version byte-swapped", Expect.ALL, b -> u32(b, 4, 0x03000000));
        add(out, "n_tensors 2^63-1", Expect.ALL, b -> u64(b, 8, Long.MAX_VALUE));
        add(out, "n_tensors -1", Expect.ALL, b -> u64(b, 8, -1));
        add(out, "n_tensors +1", Expect.ALL, b -> u64(b, 8, l.tensors.size() + 1));
        add(out, "n_kv 2^62", Expect.ALL, b -> u64(b, 16, 1L << 62));
        add(out, "n_kv -1", Expect.ALL, b -> u64(b, 16, -1));
        add(out, "n_kv +1", Expect.ALL, b -> u64(b, 16, l.kvs.size() + 1));
        add(out, "n_kv -1 (last pair read as a tensor)", Expect.ALL, b -> u64(b, 16, l.kvs.size() - 1));

        // key strings
        for (long len : new long[] {1L << 62, Long.MAX_VALUE, -1L, 1L << 31, fileSize, 0}) {
            add(out, "first key length " + Long.toUnsignedString(len), Expect.ALL, b -> u64(b, first.keyLenOff(), len));
        }
        add(out, "key length of tokenizer.ggml.tokens 2^62", Expect.ALL, b -> u64(b, tokens.keyLenOff(), 1L << 62));
        add(out, "key length +7 (misparse)", Expect.ALL, b -> u64(b, first.keyLenOff(), first.key().length() + 7));
        add(out, "duplicate key", Expect.ALL, b -> {
            Kv bos = l.kv("tokenizer.ggml.bos_token_id");
            Kv eos = l.kv("tokenizer.ggml.eos_token_id");
            assertEquals(bos.key().length(), eos.key().length()); // same length: copy one name over the other
            System.arraycopy(b, (int) bos.keyLenOff() + 8, b, (int) eos.keyLenOff() + 8, bos.key().length());
        });

        // value types
        add(out, "first value type 999", Expect.ALL, b -> u32(b, first.typeOff(), 999));
        add(out, "first value type -1", Expect.ALL, b -> u32(b, first.typeOff(), -1));
        add(out, "array element type 999", Expect.ALL, b -> u32(b, tokens.valueOff(), 999));
        add(out, "array of arrays", Expect.ALL, b -> u32(b, tokens.valueOff(), Layout.ARRAY));

        // string values
        for (long len : new long[] {1L << 62, Long.MAX_VALUE, -1L, (1L << 30) + 1, fileSize, arch.strLen() + 40}) {
            add(out, "general.architecture value length " + Long.toUnsignedString(len), Expect.ALL,
                    b -> u64(b, arch.valueOff(), len));
        }
        add(out, "first token string length 2^62", Expect.ALL, b -> u64(b, tokens.valueOff() + 12, 1L << 62));

        // array counts
        for (long n : new long[] {1L << 62, Long.MAX_VALUE, -1L, 1L << 61, (1L << 30) + 1, tokens.count() + 1}) {
            add(out, "token array count " + Long.toUnsignedString(n), Expect.ALL, b -> u64(b, tokens.valueOff() + 4, n));
        }
        for (long n : new long[] {1L << 62, (1L << 62) + 1, scores.count() + 1000}) {
            add(out, "score array count " + Long.toUnsignedString(n), Expect.ALL, b -> u64(b, scores.valueOff() + 4, n));
        }

        // tensor infos
        for (int n : new int[] {9, 5, -1}) {
            add(out, "first tensor n_dims " + Integer.toUnsignedString(n), Expect.ALL, b -> u32(b, t0.nDimsOff(), n));
        }
        TensorEntry matrix = l.tensors.stream().filter(t -> t.dims().length == 2).findFirst().orElseThrow();
        for (long d : new long[] {1L << 62, Long.MAX_VALUE, -1L, 0}) {
            add(out, "dimension " + d + " in " + matrix.name(), Expect.ALL, b -> u64(b, matrix.dimsOff(), d));
        }
        add(out, "dimensions 2^32 x 2^32 (element count overflows)", Expect.ALL, b -> {
            u64(b, matrix.dimsOff(), 1L << 32);
            u64(b, matrix.dimsOff() + 8, 1L << 32);
        });
        add(out, "dimensions 2^31 x 2^31 (byte size overflows size_t)", Expect.ALL, b -> {
            u64(b, matrix.dimsOff(), 1L << 31);
            u64(b, matrix.dimsOff() + 8, 1L << 31);
        });
        for (int type : new int[] {999, -1, 4, 5, 1000000}) {
            add(out, "first tensor type " + type, Expect.ALL, b -> u32(b, t0.typeOff(), type));
        }
        add(out, "first tensor name length 2^62", Expect.ALL, b -> u64(b, t0.start(), 1L << 62));
        add(out, "first tensor name length 64 (too long)", Expect.ALL, b -> u64(b, t0.start(), 64));
        for (long off : new long[] {fileSize, fileSize * 4, Long.MAX_VALUE, -1L, 1}) {
            add(out, "last tensor offset " + Long.toUnsignedString(off), Expect.ALL, b -> u64(b, last.offsetOff(), off));
        }
        add(out, "first tensor offset past the end", Expect.ALL, b -> u64(b, t0.offsetOff(), fileSize));
        add(out, "duplicate tensor name", Expect.ALL, b -> {
            TensorEntry q = l.tensor("blk.0.attn_q.weight");
            TensorEntry k = l.tensor("blk.0.attn_k.weight");
            System.arraycopy(b, (int) q.start() + 8, b, (int) k.start() + 8, q.name().length());
        });

        // well-formed GGUF, but not a model llama.cpp can load
        add(out, "general.architecture = llamb (unknown, edited in place)", Expect.LOADS,
                b -> b[(int) arch.valueOff() + 8 + 4] = 'b');
        add(out, "general.architecture key renamed away", Expect.LOADS,
                b -> b[(int) arch.keyLenOff() + 8 + arch.key().length() - 1] = 'X');
        out.add(Arguments.of(Named.of("general.architecture = nosucharch (rewritten)",
                new Case(rewrite(Map.of("general.architecture", "nosucharch"), "nosucharch"), Expect.LOADS))));
        out.add(Arguments.of(Named.of("general.architecture as a uint32",
                new Case(rewrite(Map.of("general.architecture", 7L), "llama"), Expect.LOADS))));
        add(out, "n_tensors -1 (last tensor missing)", Expect.FULL_LOAD, b -> u64(b, 8, l.tensors.size() - 1));

        // metadata that llama.cpp checks with GGML_ASSERT (a process abort): Model.load checks it first
        Kv layers = l.kv("llama.block_count");
        for (long n : new long[] {0, 513, 0xFFFF_FFFFL}) {
            add(out, "llama.block_count " + n, Expect.FULL_LOAD, b -> u32(b, layers.valueOff(), (int) n));
        }
        Object[][] hparams = {
            {"llama.rope.scaling.type", "foo"},
            {"llama.expert_count", 2000L},
            {"llama.expert_count", 4L}, // experts, but none used
            {"llama.expert_used_count", 2L}, // used, but no experts
            {"llama.expert_group_count", 3L},
            {"llama.nextn_predict_layers", 5L}, // more than block_count
        };
        for (Object[] kv : hparams) {
            out.add(Arguments.of(Named.of(kv[0] + " = " + kv[1], new Case(rewrite(Map.of((String) kv[0], kv[1]), "llama"),
                    Expect.FULL_LOAD))));
        }
        out.add(Arguments.of(Named.of("WordPiece (bert) vocabulary with byte tokens",
                new Case(rewrite(Map.of("tokenizer.ggml.model", "bert"), "llama"), Expect.LOADS))));
        add(out, "two tokens with the same text", Expect.LOADS, b -> {
            ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            long zero = tokens.valueOff() + 12; // the first string of the array: "<0x00>" after <unk>, <s>, </s>
            for (int i = 0; i < 3; i++) {
                zero += 8 + in.getLong((int) zero);
            }
            long one = zero + 8 + in.getLong((int) zero);
            assertEquals(6, in.getLong((int) zero));
            assertEquals(6, in.getLong((int) one));
            System.arraycopy(b, (int) zero + 8, b, (int) one + 8, 6); // <0x01> becomes <0x00>
        });
        return out.stream();
    }

    private static void add(List<Arguments> out, String name, Expect expect, Consumer<byte[]> edit) {
        byte[] b = bytes.clone();
        edit.accept(b);
        if (Arrays.equals(b, bytes)) {
            throw new IllegalStateException("case '" + name + "' changed nothing");
        }
        out.add(Arguments.of(Named.of(name, new Case(b, expect))));
    }

    /**
     * The tiny model rewritten through {@link GgufWriter} with some metadata values replaced or added (and
     * the architecture's own keys renamed to {@code archPrefix}), the same tensors and data.
     */
    @SuppressWarnings("unchecked")
    static byte[] rewrite(Map<String, Object> replace, String archPrefix) throws IOException {
        GgufFile g = GgufFile.read(model);
        Path p = tmp.resolve("rewrite-" + System.nanoTime() + ".gguf");
        Map<String, Object> meta = new java.util.LinkedHashMap<>(g.metadata());
        meta.putAll(replace);
        try (GgufWriter w = new GgufWriter()) {
            for (Map.Entry<String, Object> kv : meta.entrySet()) {
                String key = kv.getKey().startsWith("llama.") ? archPrefix + kv.getKey().substring(5) : kv.getKey();
                w.putValue(key, kv.getValue());
            }
            for (GgufFile.TensorInfo t : g.tensors()) {
                int from = (int) (g.dataOffset() + t.offset());
                w.addTensor(t.name(), t.type(), t.shape(), buf -> buf.put(bytes, from, buf.remaining()));
            }
            w.write(p);
        }
        byte[] b = Files.readAllBytes(p);
        Files.delete(p);
        return b;
    }

    private static void u32(byte[] b, long off, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt((int) off, v);
    }

    private static void u64(byte[] b, long off, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong((int) off, v);
    }

    // ---- a minimal GGUF directory parser that records where each field lies -------------------------

    /** One key/value pair: offsets of its fields; for strings {@code strLen}, for arrays {@code count}. */
    record Kv(String key, long keyLenOff, long typeOff, int type, long valueOff, long strLen, long count, long end) {}

    /** One tensor info: offsets of its fields and its parsed values. */
    record TensorEntry(String name, long start, long nDimsOff, long dimsOff, long[] dims, long typeOff, int type,
                       long offsetOff, long offset, long end) {}

    static final class Layout {
        static final int STRING = 8;
        static final int ARRAY = 9;
        private static final int[] SIZES = {1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8};

        final List<Kv> kvs = new ArrayList<>();
        final List<TensorEntry> tensors = new ArrayList<>();
        long infosEnd;
        long dataStart;
        private final ByteBuffer buf;

        private Layout(byte[] b) {
            buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }

        static Layout parse(byte[] b) {
            Layout l = new Layout(b);
            ByteBuffer in = l.buf;
            if (in.getInt(0) != 0x46554747) {
                throw new IllegalArgumentException("not GGUF");
            }
            long nTensors = in.getLong(8);
            long nKv = in.getLong(16);
            in.position(24);
            long alignment = 32;
            for (long i = 0; i < nKv; i++) {
                long keyOff = in.position();
                String key = l.string();
                long typeOff = in.position();
                int type = in.getInt();
                long valueOff = in.position();
                long strLen = -1;
                long count = -1;
                if (type == STRING) {
                    strLen = in.getLong(in.position());
                    l.string();
                } else if (type == ARRAY) {
                    int at = in.getInt();
                    count = in.getLong();
                    for (long k = 0; k < count; k++) {
                        l.skip(at);
                    }
                } else {
                    if (key.equals("general.alignment")) {
                        alignment = Integer.toUnsignedLong(in.getInt(in.position()));
                    }
                    l.skip(type);
                }
                l.kvs.add(new Kv(key, keyOff, typeOff, type, valueOff, strLen, count, in.position()));
            }
            for (long i = 0; i < nTensors; i++) {
                long start = in.position();
                String name = l.string();
                long nDimsOff = in.position();
                int nDims = in.getInt();
                long dimsOff = in.position();
                long[] dims = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    dims[d] = in.getLong();
                }
                long typeOff = in.position();
                int type = in.getInt();
                long offsetOff = in.position();
                long offset = in.getLong();
                l.tensors.add(new TensorEntry(name, start, nDimsOff, dimsOff, dims, typeOff, type, offsetOff, offset,
                        in.position()));
            }
            l.infosEnd = in.position();
            l.dataStart = (l.infosEnd + alignment - 1) / alignment * alignment;
            return l;
        }

        long kvsEnd() {
            return kvs.get(kvs.size() - 1).end();
        }

        Kv kv(String key) {
            return kvs.stream().filter(k -> k.key().equals(key)).findFirst().orElseThrow(() -> new AssertionError(key));
        }

        TensorEntry tensor(String name) {
            return tensors.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
        }

        private String string() {
            long n = buf.getLong();
            byte[] s = new byte[Math.toIntExact(n)];
            buf.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        private void skip(int type) {
            if (type == STRING) {
                string();
            } else {
                buf.position(buf.position() + SIZES[type]);
            }
        }
    }
}
