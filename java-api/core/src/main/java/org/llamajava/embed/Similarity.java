package org.llamajava.embed;

/** Vector similarity for retrieval: cosine and dot product, as llama.cpp computes them. */
public final class Similarity {
    private Similarity() {}

    /**
     * The cosine of the angle between two vectors, summed in double as llama.cpp's
     * {@code common_embd_similarity_cos}: 1 for two zero vectors, 0 for one.
     */
    public static float cosine(float[] a, float[] b) {
        check(a, b);
        double dot = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        if (aa == 0 || bb == 0) {
            return aa == 0 && bb == 0 ? 1f : 0f;
        }
        return (float) (dot / (Math.sqrt(aa) * Math.sqrt(bb)));
    }

    /** The dot product (the cosine, for L2-normalized vectors), summed in double. */
    public static float dot(float[] a, float[] b) {
        check(a, b);
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
        }
        return (float) dot;
    }

    private static void check(float[] a, float[] b) {
        if (a == null || b == null) {
            throw new IllegalArgumentException("vectors must not be null");
        }
        if (a.length != b.length) {
            throw new IllegalArgumentException("vectors differ in length: " + a.length + " and " + b.length);
        }
    }
}
