package org.llamajava.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.AbortSignal;
import org.llamajava.AbortedException;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.LlamaException;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.GgufWriter;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Quantizer against llama.cpp's {@code llama-quantize} (same source): the same input, type and
 * options give a byte-identical file, which loads and generates.
 */
class QuantizerTest {
    /** Rows of 256 and 512: what the k-quants' super-blocks need. */
    static final ModelShape SHAPE = new ModelShape(256, 2, 4, 2, 512, 512);

    @TempDir
    static Path tmp;
    static Path input;
    static Path imatrix;

    @BeforeAll
    static void write() {
        input = tmp.resolve("f32.gguf");
        new LlamaModelWriter(SHAPE, TestSupport.tinyVocabulary()).seed(5).scale(4f).write(input);
        imatrix = writeImatrix(tmp.resolve("imatrix.gguf"));
    }

    /** An importance matrix in llama-imatrix's GGUF layout, for every matrix a matmul reads. */
    static Path writeImatrix(Path file) {
        List<String[]> mats = new ArrayList<>();
        mats.add(new String[] {"output.weight", "256"});
        for (int l = 0; l < SHAPE.layers(); l++) {
            for (String t : List.of("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up")) {
                mats.add(new String[] {"blk." + l + "." + t + ".weight", "256"});
            }
            mats.add(new String[] {"blk." + l + ".ffn_down.weight", "512"});
        }
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.type", "imatrix").putStringArray("imatrix.datasets", List.of("llama-java-test.txt"))
                    .putUInt32("imatrix.chunk_count", 10).putUInt32("imatrix.chunk_size", 512);
            int i = 0;
            for (String[] m : mats) {
                long seed = ++i;
                int n = Integer.parseInt(m[1]);
                w.addTensor(m[0] + ".in_sum2", GgmlType.F32, new long[] {n, 1}, buf -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    while (buf.hasRemaining()) {
                        buf.putFloat((float) (r.nextDouble() * 50 + 0.1));
                    }
                });
                w.addTensor(m[0] + ".counts", GgmlType.F32, new long[] {1, 1}, buf -> buf.putFloat(5120f));
            }
            w.write(file);
        }
        return file;
    }

    static Path llamaQuantize(String name, String... args) throws Exception {
        Path out = tmp.resolve(name);
        List<String> all = new ArrayList<>();
        for (int i = 0; i < args.length - 1; i++) {
            all.add(args[i]);
        }
        all.add(input.toString());
        all.add(out.toString());
        all.add(args[args.length - 1]);
        all.add("2");
        TestSupport.Run r = TestSupport.runTool("llama-quantize", all.toArray(String[]::new));
        assertEquals(0, r.exitCode(), "llama-quantize failed: " + r.stderr());
        return out;
    }

    static void assertSameBytes(Path expected, Path actual) throws Exception {
        assertEquals(-1L, Files.mismatch(expected, actual), actual + " differs from llama-quantize's " + expected);
    }

    static void assertGenerates(Path model) {
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
             Sampler greedy = Sampler.greedy()) {
            Completion c = ctx.generate(m.vocabulary().tokenize("Once upon a time"), greedy, 8, null);
            assertFalse(c.tokens().length == 0, "the quantized model generates");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q8_0", "Q4_0", "Q4_K_M"})
    void byteIdenticalToLlamaQuantize(String type) throws Exception {
        Path expected = llamaQuantize("llama-" + type + ".gguf", type);
        Path actual = tmp.resolve("java-" + type + ".gguf");
        List<long[]> progress = new ArrayList<>();
        List<String> tensors = new ArrayList<>();
        QuantizeListener listener = new QuantizeListener() {
            @Override
            public void onProgress(long outputBytes, long inputBytes) {
                progress.add(new long[] {outputBytes, inputBytes});
            }

            @Override
            public void onTensor(int index, int count, String name) {
                assertEquals(tensors.size() + 1, index, "tensors are reported in order");
                assertEquals(GgufFile.read(input).tensors().size(), count);
                tensors.add(name);
            }
        };
        List<Path> written = Quantizer.builder(type).threads(2).listener(listener).build().quantize(input, actual);
        assertEquals(List.of(actual.toAbsolutePath()), written);
        assertSameBytes(expected, actual);
        long[] last = progress.get(progress.size() - 1);
        assertEquals(Files.size(actual), last[0], "the last progress report is the output's size");
        assertEquals(Files.size(input), last[1]);
        assertEquals(GgufFile.read(input).tensors().stream().map(GgufFile.TensorInfo::name).sorted().toList(),
                tensors.stream().sorted().toList(), "every tensor reported once");
        assertGenerates(actual);
    }

    @Test
    void optionsAsLlamaQuantizeFlags() throws Exception {
        Path expected = llamaQuantize("llama-opts.gguf", "--leave-output-tensor", "--token-embedding-type", "q8_0", "Q4_K_M");
        Path actual = tmp.resolve("java-opts.gguf");
        Quantizer.builder(QuantizationType.Q4_K_M).threads(2).leaveOutputTensor(true).tokenEmbeddingType("q8_0").build()
                .quantize(input, actual);
        assertSameBytes(expected, actual);

        expected = llamaQuantize("llama-pure.gguf", "--pure", "--output-tensor-type", "q8_0", "Q4_K_M");
        actual = tmp.resolve("java-pure.gguf");
        Quantizer.builder("q4_k_m").threads(2).pure(true).outputTensorType("Q8_0").build().quantize(input, actual);
        assertSameBytes(expected, actual);
        assertGenerates(actual);
    }

    @Test
    void importanceMatrixAsLlamaQuantize() throws Exception {
        Path expected = llamaQuantize("llama-imatrix.gguf", "--imatrix", imatrix.toString(), "Q4_K_M");
        Path actual = tmp.resolve("java-imatrix.gguf");
        Quantizer.builder(QuantizationType.Q4_K_M).threads(2).importanceMatrix(imatrix).build().quantize(input, actual);
        assertSameBytes(expected, actual);
        assertEquals(imatrix.toString(), GgufFile.read(actual).getString("quantize.imatrix.file"));
        assertEquals("llama-java-test.txt", GgufFile.read(actual).getString("quantize.imatrix.dataset"));
        Path plain = tmp.resolve("java-Q4_K_M-plain.gguf");
        Quantizer.builder(QuantizationType.Q4_K_M).threads(2).build().quantize(input, plain);
        assertTrue(Files.mismatch(plain, actual) >= 0, "the importance matrix changes the result");
    }

    @Test
    void keepSplitAsLlamaQuantize() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("split"));
        TestSupport.Run r = TestSupport.runTool("llama-gguf-split", "--split", "--split-max-tensors", "8", input.toString(),
                dir.resolve("in").toString());
        assertEquals(0, r.exitCode(), r.stderr());
        Path first = dir.resolve("in-00001-of-00003.gguf");
        TestSupport.Run q = TestSupport.runTool("llama-quantize", "--keep-split", first.toString(),
                dir.resolve("llama-q8.gguf").toString(), "Q8_0", "2");
        assertEquals(0, q.exitCode(), q.stderr());
        List<Path> written = Quantizer.builder(QuantizationType.Q8_0).threads(2).keepSplit(true).build()
                .quantize(first, dir.resolve("java-q8.gguf"));
        assertEquals(3, written.size());
        for (int i = 1; i <= 3; i++) {
            String suffix = String.format("-%05d-of-00003.gguf", i);
            assertEquals(dir.resolve("java-q8" + suffix).toAbsolutePath(), written.get(i - 1));
            assertSameBytes(dir.resolve("llama-q8" + suffix), written.get(i - 1));
        }
        assertGenerates(written.get(0));
    }

    @Test
    void clearErrors() throws Exception {
        IllegalArgumentException iae = assertThrows(IllegalArgumentException.class, () -> Quantizer.builder("Q9_9"));
        assertTrue(iae.getMessage().contains("Q4_K_M"), iae.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Quantizer.builder("Q8_0").outputTensorType("q9"));
        Quantizer q8 = Quantizer.builder(QuantizationType.Q8_0).threads(1).build();
        LlamaException e = assertThrows(LlamaException.class, () -> q8.quantize(tmp.resolve("missing.gguf"), tmp.resolve("o.gguf")));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        e = assertThrows(LlamaException.class, () -> q8.quantize(imatrix, tmp.resolve("o.gguf")));
        assertTrue(e.getMessage().contains("not a model"), e.getMessage());
        e = assertThrows(LlamaException.class, () -> q8.quantize(input, tmp.resolve("no/such/dir/o.gguf")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(LlamaException.class, () -> q8.quantize(input, input));
        assertTrue(e.getMessage().contains("same file"), e.getMessage());
        e = assertThrows(LlamaException.class, () -> Quantizer.builder(QuantizationType.Q4_K_M).importanceMatrix(tmp.resolve("none.dat"))
                .build().quantize(input, tmp.resolve("o.gguf")));
        assertTrue(e.getMessage().contains("importance matrix"), e.getMessage());
        // llama.cpp's own refusal: requantizing without allowRequantize
        Path q4 = tmp.resolve("q4-for-requant.gguf");
        Quantizer.builder(QuantizationType.Q4_0).threads(2).build().quantize(input, q4);
        Path out = tmp.resolve("requant.gguf");
        e = assertThrows(LlamaException.class, () -> q8.quantize(q4, out));
        assertTrue(e.getMessage().contains("requantiz"), e.getMessage());
        assertFalse(Files.exists(out), "a failed run leaves no output");
        Quantizer.builder(QuantizationType.Q8_0).allowRequantize(true).threads(2).build().quantize(q4, out);
        assertGenerates(out);
    }

    @Test
    void cancelledDuringTheRunDeletesTheOutput() {
        AbortSignal abort = new AbortSignal();
        Path out = tmp.resolve("cancelled-during.gguf");
        QuantizeListener cancelAtFirstTensor = new QuantizeListener() {
            @Override
            public void onProgress(long outputBytes, long inputBytes) {}

            @Override
            public void onTensor(int index, int count, String name) {
                abort.abort();
            }
        };
        AbortedException e = assertThrows(AbortedException.class, () -> Quantizer.builder(QuantizationType.Q8_0).threads(2)
                .listener(cancelAtFirstTensor).abortSignal(abort).build().quantize(input, out));
        assertTrue(e.getMessage().contains("deleted"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void cancelledBeforeTheRunWritesNothing() {
        AbortSignal abort = new AbortSignal();
        abort.abort();
        Path out = tmp.resolve("cancelled.gguf");
        assertThrows(AbortedException.class, () -> Quantizer.builder(QuantizationType.Q8_0).abortSignal(abort).build()
                .quantize(input, out));
        assertFalse(Files.exists(out));
    }
}
