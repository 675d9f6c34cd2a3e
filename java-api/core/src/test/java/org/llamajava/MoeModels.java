package org.llamajava;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufWriter;
import org.llamajava.gguf.VocabularySpec;

/**
 * Random-weight mixture-of-experts models in two real layouts, for tensor placement tests:
 * Mixtral-style ({@code llama} with {@code expert_count}: {@code ffn_gate_inp} and
 * {@code ffn_{gate,up,down}_exps} per layer) and {@code qwen3moe} (the same experts, plus
 * per-head Q/K norms and an expert feed-forward length).
 */
public final class MoeModels {
    public static final int EMBD = 64;
    public static final int LAYERS = 3;
    public static final int HEADS = 4;
    public static final int KV_HEADS = 2;
    public static final int FF = 96;
    public static final int EXPERTS = 4;
    public static final int EXPERTS_USED = 2;

    private MoeModels() {}

    /** Writes a Mixtral-style model (architecture {@code llama} with experts). */
    public static Path mixtral(Path dir, VocabularySpec vocab) {
        return write(dir.resolve("mixtral-moe.gguf"), "llama", vocab);
    }

    /** Writes a {@code qwen3moe} model. */
    public static Path qwen3moe(Path dir, VocabularySpec vocab) {
        return write(dir.resolve("qwen3-moe.gguf"), "qwen3moe", vocab);
    }

    private static Path write(Path path, String arch, VocabularySpec vocab) {
        int head = EMBD / HEADS;
        int kv = head * KV_HEADS;
        int nVocab = vocab.size();
        boolean qwen = arch.equals("qwen3moe");
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.architecture", arch)
                    .putString("general.name", "llama-java random " + arch + " moe")
                    .putUInt32("general.file_type", 0)
                    .putUInt32(arch + ".context_length", 2048)
                    .putUInt32(arch + ".embedding_length", EMBD)
                    .putUInt32(arch + ".block_count", LAYERS)
                    .putUInt32(arch + ".feed_forward_length", FF)
                    .putUInt32(arch + ".attention.head_count", HEADS)
                    .putUInt32(arch + ".attention.head_count_kv", KV_HEADS)
                    .putUInt32(arch + ".rope.dimension_count", head)
                    .putFloat32(arch + ".rope.freq_base", 10000f)
                    .putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f)
                    .putUInt32(arch + ".expert_count", EXPERTS)
                    .putUInt32(arch + ".expert_used_count", EXPERTS_USED)
                    .putUInt32(arch + ".vocab_size", nVocab);
            if (qwen) {
                w.putUInt32(arch + ".expert_feed_forward_length", FF)
                        .putUInt32(arch + ".attention.key_length", head)
                        .putUInt32(arch + ".attention.value_length", head);
            }
            w.putString("tokenizer.ggml.model", "llama")
                    .putStringArray("tokenizer.ggml.tokens", vocab.tokens())
                    .putFloat32Array("tokenizer.ggml.scores", vocab.scores())
                    .putInt32Array("tokenizer.ggml.token_type", vocab.types())
                    .putUInt32("tokenizer.ggml.bos_token_id", vocab.bos())
                    .putUInt32("tokenizer.ggml.eos_token_id", vocab.eos())
                    .putUInt32("tokenizer.ggml.unknown_token_id", vocab.unk())
                    .putBool("tokenizer.ggml.add_bos_token", true)
                    .putBool("tokenizer.ggml.add_eos_token", false);
            int[] id = {0};
            tensor(w, "token_embd.weight", new long[] {EMBD, nVocab}, id);
            ones(w, "output_norm.weight", EMBD);
            tensor(w, "output.weight", new long[] {EMBD, nVocab}, id);
            for (int l = 0; l < LAYERS; l++) {
                String b = "blk." + l + ".";
                ones(w, b + "attn_norm.weight", EMBD);
                tensor(w, b + "attn_q.weight", new long[] {EMBD, EMBD}, id);
                tensor(w, b + "attn_k.weight", new long[] {EMBD, kv}, id);
                tensor(w, b + "attn_v.weight", new long[] {EMBD, kv}, id);
                tensor(w, b + "attn_output.weight", new long[] {EMBD, EMBD}, id);
                if (qwen) {
                    ones(w, b + "attn_q_norm.weight", head);
                    ones(w, b + "attn_k_norm.weight", head);
                }
                ones(w, b + "ffn_norm.weight", EMBD);
                tensor(w, b + "ffn_gate_inp.weight", new long[] {EMBD, EXPERTS}, id);
                tensor(w, b + "ffn_gate_exps.weight", new long[] {EMBD, FF, EXPERTS}, id);
                tensor(w, b + "ffn_down_exps.weight", new long[] {FF, EMBD, EXPERTS}, id);
                tensor(w, b + "ffn_up_exps.weight", new long[] {EMBD, FF, EXPERTS}, id);
            }
            w.write(path);
        }
        return path;
    }

    private static void ones(GgufWriter w, String name, int n) {
        w.addTensor(name, GgmlType.F32, new long[] {n}, buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(1f);
            }
        });
    }

    private static void tensor(GgufWriter w, String name, long[] shape, int[] id) {
        long seed = 1_000_003L * 17 + id[0]++;
        float bound = (float) (4 / Math.sqrt(shape[0]));
        w.addTensor(name, GgmlType.F32, shape, buf -> fill(buf, seed, bound));
    }

    private static void fill(ByteBuffer buf, long seed, float bound) {
        SplittableRandom r = new SplittableRandom(seed);
        while (buf.hasRemaining()) {
            buf.putFloat((float) ((r.nextDouble() * 2 - 1) * bound));
        }
    }
}
