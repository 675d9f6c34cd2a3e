package org.llamajava.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Cosine and dot product on vectors whose answers are known by hand. */
class SimilarityTest {
    @Test
    void knownValues() {
        assertEquals(1f, Similarity.cosine(new float[] {1, 2, 3}, new float[] {2, 4, 6}), 1e-6f);
        assertEquals(0f, Similarity.cosine(new float[] {1, 0}, new float[] {0, 5}), 1e-6f);
        assertEquals(-1f, Similarity.cosine(new float[] {1, 1}, new float[] {-3, -3}), 1e-6f);
        assertEquals((float) (1 / Math.sqrt(2)), Similarity.cosine(new float[] {1, 0}, new float[] {1, 1}), 1e-6f);
        assertEquals(1f, Similarity.cosine(new float[] {0, 0}, new float[] {0, 0}), "two zero vectors, as llama.cpp");
        assertEquals(0f, Similarity.cosine(new float[] {0, 0}, new float[] {1, 0}));
        assertEquals(32f, Similarity.dot(new float[] {1, 2, 3}, new float[] {4, 5, 6}), 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> Similarity.dot(new float[2], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> Similarity.cosine(null, new float[3]));
    }
}
