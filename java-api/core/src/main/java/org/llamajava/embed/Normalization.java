package org.llamajava.embed;

/**
 * How an embedding is scaled after pooling, as {@code llama-embedding --embd-normalize N} does:
 * -1 none, 0 max-absolute scaled to the int16 range, 1 taxicab, 2 euclidean (L2, the default),
 * N &gt; 2 the p-norm.
 *
 * @param value llama.cpp's {@code embd_normalize} number
 */
public record Normalization(int value) {
    /** No scaling: the pooled vector as the model computes it. */
    public static final Normalization NONE = new Normalization(-1);
    /** Scaled so that the largest absolute component is 32760 (llama.cpp's int16 range). */
    public static final Normalization MAX_ABS_INT16 = new Normalization(0);
    /** Divided by the sum of absolute values (the 1-norm). */
    public static final Normalization TAXICAB = new Normalization(1);
    /** Divided by the euclidean length (the 2-norm): unit vectors, whose dot product is their cosine. */
    public static final Normalization L2 = new Normalization(2);

    public Normalization {
        if (value < -1) {
            throw new IllegalArgumentException("embd_normalize must be -1 (none), 0 (max-abs), 1 (taxicab), 2 (L2)"
                    + " or a p-norm > 2; got " + value);
        }
    }

    /** The p-norm for {@code p >= 1}. */
    public static Normalization pNorm(int p) {
        if (p < 1) {
            throw new IllegalArgumentException("p must be >= 1; got " + p);
        }
        return new Normalization(p);
    }

    /**
     * A scaled copy of {@code vector} (for one computed with {@link #NONE}, e.g. to apply a
     * normalization that a request chose, as llama-server's {@code embd_normalize}).
     */
    public float[] apply(float[] vector) {
        float[] out = new float[vector.length];
        apply(java.nio.FloatBuffer.wrap(vector), out);
        return out;
    }

    /** Writes {@code in[off..off+n)} scaled into {@code out[0..n)}, exactly as llama.cpp does (in double). */
    void apply(java.nio.FloatBuffer in, float[] out) {
        int n = out.length;
        double sum = 0.0;
        switch (value) {
            case -1 -> sum = 1.0;
            case 0 -> {
                for (int i = 0; i < n; i++) {
                    float a = Math.abs(in.get(i));
                    if (sum < a) {
                        sum = a;
                    }
                }
                sum /= 32760.0;
            }
            case 2 -> {
                for (int i = 0; i < n; i++) {
                    float x = in.get(i);
                    sum += x * x; // float product, as llama.cpp computes it
                }
                sum = Math.sqrt(sum);
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    sum += Math.pow(Math.abs(in.get(i)), value);
                }
                sum = Math.pow(sum, 1.0 / value);
            }
        }
        float norm = sum > 0.0 ? (float) (1.0 / sum) : 0.0f;
        for (int i = 0; i < n; i++) {
            out[i] = in.get(i) * norm;
        }
    }
}
