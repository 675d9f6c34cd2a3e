package org.llamajava;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Writes adapter files for written models, in llama.cpp's layouts: LoRA adapters as
 * {@code convert_lora_to_gguf.py} writes them ({@code general.type = adapter},
 * {@code adapter.type = lora}, {@code adapter.lora.alpha}, F32 tensors {@code NAME.lora_a} of
 * shape [in, rank] and {@code NAME.lora_b} of shape [rank, out}), and control vectors as
 * {@code llama-cvector-generator} writes them (F32 {@code direction.N}, N from 1).
 */
public final class AdapterFiles {
    private AdapterFiles() {}

    /** The shape of the adapter tests' base model: 64-wide, 4 layers, 4 heads (2 KV), 128 FFN, 512 context. */
    public static final ModelShape SHAPE = new ModelShape(64, 4, 4, 2, 128, 512);

    /**
     * The adapter tests' base model: random weights of {@code shape} (seed 11, scaled so that an
     * adapter visibly changes greedy text) over the tiny byte vocabulary.
     */
    public static Path writeBase(Path file, ModelShape shape) {
        new org.llamajava.gguf.LlamaModelWriter(shape, TestSupport.tinyVocabulary()).seed(11).scale(4f).write(file);
        return file;
    }

    /** The matrices a LoRA for {@code shape} adapts in every layer, with their [in, out]. */
    public static List<Object[]> targets(ModelShape shape) {
        int e = shape.embedding();
        int kv = shape.headSize() * shape.kvHeads();
        return List.of(new Object[] {"attn_q.weight", e, e}, new Object[] {"attn_v.weight", e, kv},
                new Object[] {"ffn_up.weight", e, shape.feedForward()});
    }

    /** A random LoRA adapter of the given rank and alpha for a llama model of {@code shape}. */
    public static Path writeLora(Path file, String arch, ModelShape shape, int rank, float alpha, long seed) {
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.architecture", arch)
                    .putString("general.type", "adapter")
                    .putString("general.name", "llama-java test adapter " + seed)
                    .putString("adapter.type", "lora")
                    .putFloat32("adapter.lora.alpha", alpha);
            int i = 0;
            for (int l = 0; l < shape.layers(); l++) {
                for (Object[] t : targets(shape)) {
                    String name = "blk." + l + "." + t[0];
                    int in = (Integer) t[1];
                    int out = (Integer) t[2];
                    long s = seed * 7919 + (i++);
                    w.addTensor(name + ".lora_a", GgmlType.F32, new long[] {in, rank}, buf -> fill(buf, s, 0.5f));
                    w.addTensor(name + ".lora_b", GgmlType.F32, new long[] {rank, out}, buf -> fill(buf, s + 100_000, 0.5f));
                }
            }
            w.write(file);
        }
        return file;
    }

    /** A random control vector with directions for layers 1..layers. */
    public static Path writeControlVector(Path file, int embedding, int layers, long seed, float bound) {
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.architecture", "controlvector")
                    .putString("controlvector.model_hint", "llama")
                    .putInt32("controlvector.layer_count", layers);
            for (int l = 1; l <= layers; l++) {
                long s = seed * 31 + l;
                w.addTensor("direction." + l, GgmlType.F32, new long[] {embedding}, buf -> fill(buf, s, bound));
            }
            w.write(file);
        }
        return file;
    }

    static void fill(java.nio.ByteBuffer buf, long seed, float bound) {
        SplittableRandom r = new SplittableRandom(seed);
        while (buf.hasRemaining()) {
            buf.putFloat((float) ((r.nextDouble() * 2 - 1) * bound));
        }
    }
}
