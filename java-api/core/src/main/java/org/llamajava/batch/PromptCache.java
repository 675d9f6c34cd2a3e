package org.llamajava.batch;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.llamajava.LoraAdapter;
import org.llamajava.Vocabulary;
import org.llamajava.Sampler;
import org.llamajava.internal.BatchDecoder;
import org.llamajava.internal.Jfr;
import org.llamajava.internal.PromptCacheEvent;

/**
 * The host-memory prompt cache ({@link EngineParams#promptCacheBytes()}, llama-server's
 * {@code --cache-ram}): idle slots' caches saved out of the unified KV cache, least recently saved
 * first, and restored into the slot of a request whose prompt shares a longer prefix with one
 * than with any free slot. Owns its entries and their counts (read by {@link BatchEngine#stats()}
 * from any thread); everything else runs on the engine thread.
 */
final class PromptCache {
    /** Most saved caches kept, whatever their size. */
    static final int MAX_ENTRIES = 256;

    /** A slot's cache saved to host memory: its tokens, the adapters they were evaluated with, the KV state. */
    private record Cached(int[] tokens, Map<LoraAdapter, Float> loras, byte[] state) {}

    private final BatchDecoder<Sampler> decoder;
    private final Vocabulary vocab;
    /** Most bytes of state kept; -1 for no limit. */
    private final long limit;
    /** Least recently saved first. */
    private final LinkedList<Cached> cache = new LinkedList<>();
    /** Bytes of state in {@link #cache}, and its entries. */
    private volatile long used;
    private volatile int count;
    private final AtomicLong restores = new AtomicLong();

    PromptCache(BatchDecoder<Sampler> decoder, Vocabulary vocab, long limit) {
        this.decoder = decoder;
        this.vocab = vocab;
        this.limit = limit;
    }

    /** Saved caches. */
    int entries() {
        return count;
    }

    /** Bytes of state saved. */
    long bytes() {
        return used;
    }

    /** Saved caches restored into a slot so far. */
    long restores() {
        return restores.get();
    }

    /**
     * Moves a slot's cache into the prompt cache (if it holds only text tokens and fits) and
     * clears the slot; a saved cache it extends is dropped.
     */
    private void stash(Slot s) {
        if (s.length == 0) {
            return;
        }
        save(s);
        decoder.removeFrom(s.id, 0);
        s.length = 0;
    }

    /**
     * Copies a slot's cache into the prompt cache, if it holds only text tokens, fits, and is not
     * there already (a saved cache with the same adapters starts with all of its tokens); a saved
     * cache it extends is dropped.
     *
     * @return whether it was saved
     */
    boolean save(Slot s) {
        if (s.length == 0 || contains(s)) {
            return false;
        }
        boolean text = true;
        for (int i = 0; i < s.length && text; i++) {
            text = s.cache[i] >= 0 && s.cache[i] < vocab.size(); // media chunks' keys are not saved
        }
        byte[] state = null;
        PromptCacheEvent event = text && Jfr.promptCache() ? new PromptCacheEvent() : null;
        if (event != null) {
            event.begin();
        }
        if (text) {
            try {
                state = decoder.saveSequence(s.id);
            } catch (RuntimeException | OutOfMemoryError e) {
                state = null; // not saved (no memory for it, or the model's RPC server failed): only a lost cache
            }
        }
        boolean kept = state != null && (limit < 0 || state.length <= limit);
        if (event != null) {
            event.end();
            event.operation = "save";
            event.slot = s.id;
            event.tokens = s.length;
            event.size = state == null ? 0 : state.length;
            event.succeeded = kept;
            event.commit();
        }
        if (kept) {
            int[] tokens = Arrays.copyOf(s.cache, s.length);
            Map<LoraAdapter, Float> loras = s.loras;
            for (Iterator<Cached> it = cache.iterator(); it.hasNext();) {
                Cached c = it.next();
                if (c.loras().equals(loras) && c.tokens().length <= tokens.length
                        && Arrays.equals(c.tokens(), 0, c.tokens().length, tokens, 0, c.tokens().length)) {
                    it.remove();
                    used -= c.state().length;
                }
            }
            cache.addLast(new Cached(tokens, loras, state));
            used += state.length;
            while (cache.size() > MAX_ENTRIES || (limit > 0 && used > limit)) {
                used -= cache.removeFirst().state().length;
            }
            count = cache.size();
        }
        return kept;
    }

    /** Whether a saved cache with the slot's adapters starts with all of the slot's tokens. */
    private boolean contains(Slot s) {
        for (Cached c : cache) {
            if (c.tokens().length >= s.length && c.loras().equals(s.loras)
                    && Arrays.equals(c.tokens(), 0, s.length, s.cache, 0, s.length)) {
                return true;
            }
        }
        return false;
    }

    /**
     * If a saved cache with adapters {@code loras} shares a longer prefix with request {@code r}'s
     * prompt than {@code than} tokens, puts it back into {@code slot}, whose own cache is saved
     * first (the saved one stays saved, now the most recent, if the request will cut most of it).
     *
     * @return -1 if none does; else the tokens the slot now shares with the prompt: 0 if
     *     restoring failed (the slot is then empty)
     */
    int restore(Slot slot, Map<LoraAdapter, Float> loras, BatchRequest r, int than) {
        Cached hit = null;
        int hitLcp = 0;
        for (Cached c : cache) {
            if (!c.loras().equals(loras)) {
                continue;
            }
            int n = SlotChooser.shared(c.tokens(), c.tokens().length, r);
            if (n > hitLcp) {
                hit = c;
                hitLcp = n;
            }
        }
        if (hit == null || hitLcp <= than) {
            return -1;
        }
        cache.remove(hit);
        used -= hit.state().length;
        stash(slot);
        int kept = Math.min(hitLcp, r.promptLength() - 1);
        if (hit.tokens().length - kept >= Math.max(1, kept)) {
            cache.addLast(hit); // most of it will be cut: it stays saved, now the most recent
            used += hit.state().length;
        } // else it lives on in the slot
        count = cache.size();
        boolean back;
        PromptCacheEvent event = Jfr.promptCache() ? new PromptCacheEvent() : null;
        if (event != null) {
            event.begin();
        }
        try {
            back = decoder.restoreSequence(slot.id, hit.state());
        } catch (RuntimeException | OutOfMemoryError e) {
            decoder.removeFrom(slot.id, 0);
            back = false;
        }
        if (event != null) {
            event.end();
            event.operation = "restore";
            event.slot = slot.id;
            event.tokens = hit.tokens().length;
            event.size = hit.state().length;
            event.succeeded = back;
            event.commit();
        }
        if (!back) {
            return 0;
        }
        restores.incrementAndGet();
        slot.cache = Arrays.copyOf(hit.tokens(), Math.max(256, hit.tokens().length));
        slot.length = hit.tokens().length;
        slot.loras = hit.loras();
        return hitLcp;
    }
}
