package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufFile.TensorInfo;

/** Records that hold arrays copy them on the way in and out and compare them by content. */
class ValuesTest {
    private static Timings timings() {
        return new Timings(3, 1_000, 2, 2_000);
    }

    @Test
    void completionTokens() {
        int[] tokens = {5, 6, 7};
        Completion c = new Completion("hi", tokens, 3, 0, FinishReason.MAX_TOKENS, timings());
        tokens[0] = 99;
        assertArrayEquals(new int[] {5, 6, 7}, c.tokens(), "a later change to the caller's array does not show");
        c.tokens()[1] = 99;
        assertArrayEquals(new int[] {5, 6, 7}, c.tokens(), "the returned array is a copy");
        assertEquals(3, c.tokenCount());
        Completion same = new Completion("hi", new int[] {5, 6, 7}, 3, 0, FinishReason.MAX_TOKENS, timings());
        assertEquals(c, same);
        assertEquals(c.hashCode(), same.hashCode());
        assertNotEquals(c, new Completion("hi", new int[] {5, 6, 8}, 3, 0, FinishReason.MAX_TOKENS, timings()));
        assertTrue(c.toString().contains("[5, 6, 7]"), c.toString());
    }

    @Test
    void modelParamsTensorSplit() {
        float[] split = {0.25f, 0.75f};
        ModelParams p = ModelParams.builder().tensorSplit(split).build();
        split[0] = 9f;
        assertArrayEquals(new float[] {0.25f, 0.75f}, p.tensorSplit());
        p.tensorSplit()[0] = 9f;
        assertArrayEquals(new float[] {0.25f, 0.75f}, p.tensorSplit());
        assertNotSame(p.tensorSplit(), p.tensorSplit());
        ModelParams same = ModelParams.builder().tensorSplit(0.25f, 0.75f).build();
        assertEquals(p, same);
        assertEquals(p.hashCode(), same.hashCode());
        assertNotEquals(p, ModelParams.builder().tensorSplit(0.5f, 0.5f).build());
        assertNull(ModelParams.defaults().tensorSplit());
        assertEquals(ModelParams.defaults(), ModelParams.defaults());
    }

    @Test
    void tensorInfoShape() {
        long[] shape = {8, 32};
        TensorInfo t = new TensorInfo("w", GgmlType.F32, shape, 0, 1024);
        shape[0] = 99;
        assertArrayEquals(new long[] {8, 32}, t.shape());
        t.shape()[0] = 99;
        assertArrayEquals(new long[] {8, 32}, t.shape());
        TensorInfo same = new TensorInfo("w", GgmlType.F32, new long[] {8, 32}, 0, 1024);
        assertEquals(t, same);
        assertEquals(t.hashCode(), same.hashCode());
        assertNotEquals(t, new TensorInfo("w", GgmlType.F32, new long[] {32, 8}, 0, 1024));
        assertEquals("[8, 32]", t.shapeString());
    }
}
