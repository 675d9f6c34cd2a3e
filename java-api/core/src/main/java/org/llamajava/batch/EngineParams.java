package org.llamajava.batch;

import org.llamajava.ContextParams;
import org.llamajava.OverflowPolicy;

/**
 * How to start a {@link BatchEngine}. Build with {@link #builder()}.
 *
 * @param slots       requests generated at once (llama-server's {@code -np}); each slot is one
 *                    sequence and keeps its cache for the next request (prompt-cache reuse)
 * @param contextSize tokens of KV cache shared by all slots; each slot may use
 *                    {@code contextSize / slots} (prompt and generated tokens together)
 * @param batchSize   most tokens in one native decode: every generating slot's next token, the
 *                    rest filled with chunks of pending prompts
 * @param threads     CPU threads
 * @param maxQueue    requests waiting for a slot before {@link BatchEngine#submit} refuses more
 * @param promptCacheBytes host memory (Java heap) for the prompt cache, llama-server's
 *                    {@code --cache-ram}: when a request starts, the caches of idle slots move
 *                    from the KV cache into it (unless {@link #cacheIdleSlots()} is false), and a
 *                    later request whose prompt shares a
 *                    longer prefix with a saved cache than with any slot restores it into its slot;
 *                    the least recently used are dropped past this size. 0: off (idle slots keep
 *                    their KV); -1: no limit. Default: a quarter of the heap, at most 8 GiB
 * @param overflow    what a request does when its slot fills up while it generates (the slot's
 *                    tokens, prompt and generated, leave one cell free). {@link OverflowPolicy#fail()}
 *                    (the default): it ends, with {@link org.llamajava.FinishReason#MAX_TOKENS}.
 *                    {@link OverflowPolicy#shift(int) shift(keep)}: llama-server's
 *                    {@code --context-shift}: the slot drops half of its tokens after the first
 *                    {@code keep} (at most the slot's size less 4), moves the rest back, and the
 *                    request goes on ({@link org.llamajava.Completion#discardedTokens()} counts the
 *                    tokens dropped). Requests with images or audio, and models whose memory cannot
 *                    shift positions ({@link BatchEngine#contextShift()}), end as with {@code fail()}
 * @param unifiedKv   llama-server's {@code --kv-unified}: each slot may hold the whole context
 *                    ({@link BatchEngine#tokensPerSlot()} is {@code contextSize}), the slots sharing
 *                    its cells. When they run out, the idle slots' caches are dropped (kept in the
 *                    prompt cache if it is on) and the step is decoded again; if none is left to
 *                    drop, every running request fails with a {@link org.llamajava.ContextOverflowException}
 *                    ("Context size has been exceeded", as llama-server's). False (the default):
 *                    each slot holds {@code contextSize / slots}, so that the slots never run out
 * @param cacheIdleSlots llama-server's {@code --cache-idle-slots} (true, the default) and
 *                    {@code --no-cache-idle-slots}: with the prompt cache on, whenever a request
 *                    starts, every other idle slot that holds tokens is saved into the prompt cache
 *                    and its KV cleared (the engine's slots always share one KV buffer, so that the
 *                    running requests attend over fewer cells); a later request with that prompt
 *                    restores it. False: idle slots keep their KV until a request takes their slot
 *                    (whose cache is then saved if the request cuts most of it) or the unified KV
 *                    cache runs out. No effect with the prompt cache off
 */
public record EngineParams(int slots, int contextSize, int batchSize, int threads, int maxQueue,
                           long promptCacheBytes, OverflowPolicy overflow, boolean unifiedKv, boolean cacheIdleSlots) {

    public EngineParams {
        if (slots < 1 || slots > ContextParams.MAX_SEQUENCES) {
            throw new IllegalArgumentException("slots must be in [1, " + ContextParams.MAX_SEQUENCES + "]; got " + slots);
        }
        if (contextSize < slots || contextSize > ContextParams.MAX_SIZE) {
            throw new IllegalArgumentException("contextSize must be in [slots, " + ContextParams.MAX_SIZE + "]; got "
                    + contextSize);
        }
        if (batchSize < slots || batchSize > ContextParams.MAX_SIZE) {
            throw new IllegalArgumentException("batchSize must be at least the number of slots (" + slots + "); got "
                    + batchSize);
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024]; got " + threads);
        }
        if (maxQueue < 1) {
            throw new IllegalArgumentException("maxQueue must be >= 1; got " + maxQueue);
        }
        if (promptCacheBytes < -1) {
            throw new IllegalArgumentException("promptCacheBytes must be -1 (no limit), 0 (off) or a size in bytes; got "
                    + promptCacheBytes);
        }
        if (overflow == null) {
            throw new IllegalArgumentException("overflow is null; OverflowPolicy.fail() ends a request whose slot is full");
        }
    }

    /** Parameters whose requests end when their slot is full ({@link OverflowPolicy#fail()}). */
    public EngineParams(int slots, int contextSize, int batchSize, int threads, int maxQueue, long promptCacheBytes) {
        this(slots, contextSize, batchSize, threads, maxQueue, promptCacheBytes, OverflowPolicy.fail(), false, true);
    }

    /** Parameters that save idle slots into the prompt cache ({@link #cacheIdleSlots()} true, the default). */
    public EngineParams(int slots, int contextSize, int batchSize, int threads, int maxQueue, long promptCacheBytes,
                        OverflowPolicy overflow, boolean unifiedKv) {
        this(slots, contextSize, batchSize, threads, maxQueue, promptCacheBytes, overflow, unifiedKv, true);
    }

    /** Parameters with the default prompt cache ({@link #defaultPromptCacheBytes()}). */
    public EngineParams(int slots, int contextSize, int batchSize, int threads, int maxQueue) {
        this(slots, contextSize, batchSize, threads, maxQueue, defaultPromptCacheBytes());
    }

    /** The default size of the prompt cache: a quarter of the JVM's maximum heap, at most 8 GiB. */
    public static long defaultPromptCacheBytes() {
        return Math.min(8L << 30, Runtime.getRuntime().maxMemory() / 4);
    }

    /**
     * The defaults: 4 slots, 4096 tokens, batches of 512, up to 4 threads, 64 queued requests, a
     * prompt cache of {@link #defaultPromptCacheBytes()}.
     */
    public static EngineParams defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link EngineParams}. */
    public static final class Builder {
        private int slots = 4;
        private int contextSize = 4096;
        private int batchSize = 512;
        private int threads = ContextParams.defaults().threads();
        private int maxQueue = 64;
        private long promptCacheBytes = defaultPromptCacheBytes();
        private OverflowPolicy overflow = OverflowPolicy.fail();
        private boolean unifiedKv;
        private boolean cacheIdleSlots = true;

        private Builder() {}

        public Builder slots(int v) { this.slots = v; return this; }
        public Builder contextSize(int v) { this.contextSize = v; return this; }
        public Builder batchSize(int v) { this.batchSize = v; return this; }
        public Builder threads(int v) { this.threads = v; return this; }
        public Builder maxQueue(int v) { this.maxQueue = v; return this; }
        /** See {@link EngineParams#promptCacheBytes()}: 0 turns the prompt cache off, -1 lifts its limit. */
        public Builder promptCacheBytes(long v) { this.promptCacheBytes = v; return this; }
        /** See {@link EngineParams#overflow()}: {@code OverflowPolicy.shift(keep)} is llama-server's context shift. */
        public Builder overflow(OverflowPolicy v) { this.overflow = v; return this; }
        /** See {@link EngineParams#unifiedKv()}: llama-server's {@code --kv-unified}, slots sharing the whole context. */
        public Builder unifiedKv(boolean v) { this.unifiedKv = v; return this; }
        /** See {@link EngineParams#cacheIdleSlots()}: llama-server's {@code --cache-idle-slots} (default true). */
        public Builder cacheIdleSlots(boolean v) { this.cacheIdleSlots = v; return this; }

        public EngineParams build() {
            return new EngineParams(slots, contextSize, batchSize, threads, maxQueue, promptCacheBytes, overflow, unifiedKv,
                    cacheIdleSlots);
        }
    }
}
