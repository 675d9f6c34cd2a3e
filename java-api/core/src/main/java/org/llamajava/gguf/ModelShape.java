package org.llamajava.gguf;

/**
 * The shape of a llama-architecture model, for {@link LlamaModelWriter}.
 *
 * @param embedding    n_embd
 * @param layers       number of transformer blocks
 * @param heads        attention heads
 * @param kvHeads      key/value heads (grouped-query attention); divides {@code heads}
 * @param feedForward  n_ff
 * @param contextTrain training context length
 */
public record ModelShape(int embedding, int layers, int heads, int kvHeads, int feedForward, int contextTrain) {
    public ModelShape {
        if (embedding <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || feedForward <= 0 || contextTrain <= 0) {
            throw new IllegalArgumentException("every dimension must be positive: " + this);
        }
        if (embedding % heads != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads must divide embedding and kvHeads must divide heads: " + this);
        }
        if ((embedding / heads) % 2 != 0) {
            throw new IllegalArgumentException("head size (embedding / heads) must be even for RoPE: " + this);
        }
    }

    /** A tiny shape for tests: 64-wide, 2 layers, 4 heads, 2 KV heads. */
    public static ModelShape tiny() {
        return new ModelShape(64, 2, 4, 2, 128, 512);
    }

    /** SmolLM2-135M's shape: 576-wide, 30 layers, 9 heads, 3 KV heads, n_ff 1536. */
    public static ModelShape smol135m() {
        return new ModelShape(576, 30, 9, 3, 1536, 8192);
    }

    /** A Llama-3.2-1B-like shape: 2048-wide, 16 layers, 32 heads, 8 KV heads, n_ff 8192. */
    public static ModelShape llama1b() {
        return new ModelShape(2048, 16, 32, 8, 8192, 8192);
    }

    /** Size of one head. */
    public int headSize() {
        return embedding / heads;
    }
}
