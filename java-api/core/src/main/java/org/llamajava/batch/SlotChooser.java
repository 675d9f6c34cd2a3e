package org.llamajava.batch;

import java.util.Map;
import org.llamajava.LoraAdapter;

/**
 * Slot choice: a new request takes the free slot whose cache shares the longest prefix with its
 * prompt, the first such in slot order. Only a cache evaluated with the request's LoRA adapters
 * counts (one evaluated with others holds other values); any other shares nothing. Engine thread
 * only.
 */
final class SlotChooser {
    private final Slot[] slots;
    /** What the last {@link #choose} chose shares with the prompt. */
    private int shared;

    SlotChooser(Slot[] slots) {
        this.slots = slots;
    }

    /**
     * The free slot for request {@code r} with adapters {@code loras}; {@link #shared()} then tells
     * how many of its cached tokens the prompt starts with.
     *
     * @throws IllegalStateException if no slot is free
     */
    Slot choose(Map<LoraAdapter, Float> loras, BatchRequest r) {
        Slot best = null;
        int bestLcp = -1;
        for (Slot s : slots) {
            if (s.run != null) {
                continue;
            }
            // a cache evaluated with other adapters holds other values: reuse none of it
            int lcp = s.loras.equals(loras) ? shared(s.cache, s.length, r) : 0;
            if (lcp > bestLcp) {
                best = s;
                bestLcp = lcp;
            }
        }
        if (best == null) {
            throw new IllegalStateException("no free slot"); // the engine admits only while one is
        }
        shared = bestLcp;
        return best;
    }

    /**
     * Slot {@code id} for request {@code r} (pinned to it, as llama-server's {@code id_slot});
     * {@link #shared()} then tells how much of its cache the prompt starts with.
     *
     * @throws IllegalStateException if that slot is busy
     */
    Slot choose(Map<LoraAdapter, Float> loras, BatchRequest r, int id) {
        Slot s = slots[id];
        if (s.run != null) {
            throw new IllegalStateException("slot " + id + " is busy"); // the engine admits only when it is free
        }
        shared = s.loras.equals(loras) ? shared(s.cache, s.length, r) : 0;
        return s;
    }

    /** How many of the cached tokens of the slot the last {@link #choose} chose the prompt starts with. */
    int shared() {
        return shared;
    }

    /** How many of the first {@code length} {@code tokens} the request's prompt starts with. */
    static int shared(int[] tokens, int length, BatchRequest r) {
        int max = Math.min(length, r.promptLength());
        int n = 0;
        while (n < max && tokens[n] == r.promptToken(n)) {
            n++;
        }
        return n;
    }
}
