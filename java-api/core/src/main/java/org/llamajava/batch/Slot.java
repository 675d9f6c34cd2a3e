package org.llamajava.batch;

import java.util.Arrays;
import java.util.Map;
import org.llamajava.LoraAdapter;

/**
 * One sequence of the engine's context: the tokens its cache holds, the LoRA adapters they were
 * evaluated with, and the request it serves (null while idle). Engine thread only.
 */
final class Slot {
    final int id;
    int[] cache = new int[256];
    int length;
    Run run;
    /** The LoRA adapters the cached tokens were evaluated with (no zero scales). */
    Map<LoraAdapter, Float> loras = Map.of();

    Slot(int id) {
        this.id = id;
    }

    void remember(int token) {
        if (length == cache.length) {
            cache = Arrays.copyOf(cache, length * 2);
        }
        cache[length++] = token;
    }
}
