package org.llamajava.gguf;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a llama-architecture GGUF model with random weights in a given shape and vocabulary,
 * so that tests and benchmarks need no downloaded model. The weights are a deterministic
 * function of the seed. Quantize the result with llama.cpp's {@code llama-quantize} for Q8_0 or
 * Q4_0 variants.
 */
public final class LlamaModelWriter {
    private final ModelShape shape;
    private final VocabularySpec vocab;
    private GgmlType weightType = GgmlType.F32;
    private long seed = 42;
    private String name = "llama-java random";
    private float scale = 1f;

    public LlamaModelWriter(ModelShape shape, VocabularySpec vocab) {
        if (shape == null || vocab == null) {
            throw new IllegalArgumentException("shape and vocab are required");
        }
        this.shape = shape;
        this.vocab = vocab;
    }

    /** Type of the matrices: F32 (default) or F16. Norm weights are always F32. */
    public LlamaModelWriter weightType(GgmlType type) {
        if (type.id() != GgmlType.F32.id() && type.id() != GgmlType.F16.id()) {
            throw new IllegalArgumentException("weightType must be F32 or F16; quantize afterwards for others");
        }
        this.weightType = type;
        return this;
    }

    public LlamaModelWriter seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** Value of {@code general.name}. */
    public LlamaModelWriter name(String name) {
        this.name = name;
        return this;
    }

    /** Multiplies the random weights' spread (default 1: uniform in ±1/sqrt(fan-in)). */
    public LlamaModelWriter scale(float scale) {
        this.scale = scale;
        return this;
    }

    /** Writes the model to {@code path}. */
    public void write(Path path) {
        int e = shape.embedding();
        int kv = shape.headSize() * shape.kvHeads();
        int nVocab = vocab.size();
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.architecture", "llama")
                    .putString("general.name", name)
                    .putUInt32("general.file_type", weightType.id() == GgmlType.F16.id() ? 1 : 0)
                    .putUInt32("llama.context_length", shape.contextTrain())
                    .putUInt32("llama.embedding_length", e)
                    .putUInt32("llama.block_count", shape.layers())
                    .putUInt32("llama.feed_forward_length", shape.feedForward())
                    .putUInt32("llama.attention.head_count", shape.heads())
                    .putUInt32("llama.attention.head_count_kv", shape.kvHeads())
                    .putUInt32("llama.rope.dimension_count", shape.headSize())
                    .putFloat32("llama.rope.freq_base", 10000f)
                    .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                    .putUInt32("llama.vocab_size", nVocab)
                    .putString("tokenizer.ggml.model", "llama")
                    .putStringArray("tokenizer.ggml.tokens", vocab.tokens())
                    .putFloat32Array("tokenizer.ggml.scores", vocab.scores())
                    .putInt32Array("tokenizer.ggml.token_type", vocab.types())
                    .putUInt32("tokenizer.ggml.bos_token_id", vocab.bos())
                    .putUInt32("tokenizer.ggml.eos_token_id", vocab.eos())
                    .putUInt32("tokenizer.ggml.unknown_token_id", vocab.unk())
                    .putBool("tokenizer.ggml.add_bos_token", true)
                    .putBool("tokenizer.ggml.add_eos_token", false);
            int id = 0;
            matrix(w, "token_embd.weight", e, nVocab, id++);
            norm(w, "output_norm.weight", e);
            matrix(w, "output.weight", e, nVocab, id++);
            for (int l = 0; l < shape.layers(); l++) {
                String b = "blk." + l + ".";
                norm(w, b + "attn_norm.weight", e);
                matrix(w, b + "attn_q.weight", e, e, id++);
                matrix(w, b + "attn_k.weight", e, kv, id++);
                matrix(w, b + "attn_v.weight", e, kv, id++);
                matrix(w, b + "attn_output.weight", e, e, id++);
                norm(w, b + "ffn_norm.weight", e);
                matrix(w, b + "ffn_gate.weight", e, shape.feedForward(), id++);
                matrix(w, b + "ffn_up.weight", e, shape.feedForward(), id++);
                matrix(w, b + "ffn_down.weight", shape.feedForward(), e, id++);
            }
            w.write(path);
        }
    }

    private void norm(GgufWriter w, String name, int n) {
        w.addTensor(name, GgmlType.F32, new long[] {n}, buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(1f);
            }
        });
    }

    private void matrix(GgufWriter w, String name, int cols, int rows, int index) {
        float bound = (float) (scale / Math.sqrt(cols));
        long tensorSeed = seed * 1_000_003L + index;
        boolean f16 = weightType.id() == GgmlType.F16.id();
        w.addTensor(name, weightType, new long[] {cols, rows}, buf -> fillRandom(buf, tensorSeed, bound, f16));
    }

    private static void fillRandom(ByteBuffer buf, long seed, float bound, boolean f16) {
        SplittableRandom r = new SplittableRandom(seed);
        while (buf.hasRemaining()) {
            float v = (float) ((r.nextDouble() * 2 - 1) * bound);
            if (f16) {
                buf.putShort(Half.fromFloat(v));
            } else {
                buf.putFloat(v);
            }
        }
    }
}
