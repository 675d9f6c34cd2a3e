package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.gguf.VocabularySpec;

/**
 * What GGUF fuzzing ({@code ci/fuzz.sh}) found, each rebuilt from a model this suite writes
 * (the fuzzer's own inputs derive from llama.cpp's vocabulary files, which are not committed),
 * and the seeds replayed through the fuzz target.
 */
class FuzzFindingsTest {
    @TempDir
    static Path tmp;
    static Path micro;

    @BeforeAll
    static void writeModel() {
        micro = tmp.resolve("micro.gguf");
        new LlamaModelWriter(new ModelShape(8, 1, 2, 1, 16, 64), TestSupport.tinyVocabulary()).seed(3).write(micro);
    }

    private static Model vocabOnly(Path p) {
        return Model.load(p, ModelParams.builder().vocabOnly(true).build());
    }

    /**
     * Finding 1: a SentencePiece vocabulary without its byte tokens. Text that needs the byte
     * fallback made llama_tokenize throw std::out_of_range ("unordered_map::at"), which reached
     * the caller as a bare RuntimeException; it is now a LlamaException naming the model.
     */
    @Test
    void vocabularyWithoutByteTokens() {
        Path p = tmp.resolve("no-bytes.gguf");
        List<String> tokens = List.of("<unk>", "<s>", "</s>", "▁", "▁a", "a", "b");
        float[] scores = {0, 0, 0, -1, -2, -3, -4};
        int[] types = {VocabularySpec.TYPE_UNKNOWN, VocabularySpec.TYPE_CONTROL, VocabularySpec.TYPE_CONTROL,
            VocabularySpec.TYPE_NORMAL, VocabularySpec.TYPE_NORMAL, VocabularySpec.TYPE_NORMAL, VocabularySpec.TYPE_NORMAL};
        new LlamaModelWriter(new ModelShape(8, 1, 2, 1, 16, 64), new VocabularySpec(tokens, scores, types, 1, 2, 0)).write(p);
        try (Model m = vocabOnly(p)) {
            int[] ab = m.vocabulary().tokenize("a b", false, false);
            assertEquals("a b", m.vocabulary().detokenize(ab).strip(), "text the vocabulary covers still works");
            LlamaException e = assertThrows(LlamaException.class, () -> m.vocabulary().tokenize("a ü", false, false));
            assertTrue(e.getMessage().contains("llama_tokenize") && e.getMessage().contains("no-bytes.gguf"), e.getMessage());
            assertArrayEquals(ab, m.vocabulary().tokenize("a b", false, false), "the vocabulary is still usable");
        }
    }

    /**
     * Finding 2: a model that asks for a BOS token (tokenizer.ggml.add_bos_token) but defines
     * none: tokenizing with special tokens hit GGML_ASSERT(special_bos_id != LLAMA_TOKEN_NULL) in
     * llama-vocab.cpp and aborted the JVM. Here: a Unigram (t5) vocabulary, whose default BOS is
     * none, with the BOS key removed.
     */
    @Test
    void addBosWithoutBosToken() {
        Path p = tmp.resolve("no-bos.gguf");
        assertTrue(GgufFuzzSeeds.rewrite(micro, p, (src, dst) -> {
            gguf_set_val_str(dst, "tokenizer.ggml.model", "t5");
            gguf_remove_key(dst, "tokenizer.ggml.bos_token_id");
            gguf_set_val_bool(dst, "tokenizer.ggml.add_bos_token", true);
        }));
        try (Model m = vocabOnly(p)) {
            assertEquals(Vocabulary.NO_TOKEN, m.vocabulary().bos());
            assertTrue(m.vocabulary().addsBos());
            LlamaException e = assertThrows(LlamaException.class, () -> m.vocabulary().tokenize("a b"));
            assertTrue(e.getMessage().contains("BOS") && e.getMessage().contains("addSpecial=false"), e.getMessage());
            assertTrue(m.vocabulary().tokenize("a b", false, false).length > 0, "tokenizing without special tokens works");
        }
    }

    /**
     * Finding 3: a negative (or NaN) {@code llama.attention.layer_norm_rms_epsilon}. The model
     * loaded, and the first decode hit GGML_ASSERT(eps >= 0.0f) in ggml's RMS norm, aborting the
     * JVM. Now rejected when the model is loaded; a vocab-only load still works.
     */
    @Test
    void negativeNormEpsilon() throws IOException {
        byte[] key = "llama.attention.layer_norm_rms_epsilon".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] bytes = Files.readAllBytes(micro);
        int at = indexOf(bytes, key);
        assertTrue(at > 0, "the writer stores the epsilon");
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(6, b.getInt(at + key.length), "stored as FLOAT32"); // GGUF_TYPE_FLOAT32
        for (float bad : new float[] {-1e-5f, Float.NaN}) {
            b.putFloat(at + key.length + 4, bad);
            Path p = Files.write(tmp.resolve("bad-eps.gguf"), bytes);
            LlamaException e = assertThrows(LlamaException.class, () -> Model.load(p));
            assertTrue(e.getMessage().contains("layer_norm_rms_epsilon"), e.getMessage());
            try (Model m = vocabOnly(p)) {
                assertTrue(m.vocabulary().size() > 0);
            }
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Every seed the fuzzer starts from goes through the fuzz target without a finding. */
    @Test
    void seedsPassTheFuzzTarget() throws IOException {
        Path seeds = tmp.resolve("seeds");
        List<Path> written = GgufFuzzSeeds.write(seeds, tmp.resolve("gguf.dict"), TestSupport.llamaSource());
        assertTrue(written.size() >= 2, "" + written);
        for (Path seed : written) {
            GgufFuzzTarget.run(seed);
        }
        try (Stream<String> lines = Files.lines(tmp.resolve("gguf.dict"))) {
            assertTrue(lines.anyMatch(l -> l.contains("\"tokenizer.ggml.tokens\"")), "the dictionary lists GGUF keys");
        }
    }
}
