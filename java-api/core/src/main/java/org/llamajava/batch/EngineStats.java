package org.llamajava.batch;

/**
 * A {@link BatchEngine}'s counters, for metrics.
 *
 * @param slots                 slots in all
 * @param activeSlots           slots serving a request now
 * @param queued                requests waiting for a slot
 * @param completed             requests finished (not failed)
 * @param promptTokensEvaluated prompt tokens decoded
 * @param promptTokensCached    prompt tokens reused from a slot's cache instead
 * @param tokensGenerated       tokens sampled
 * @param decodes               native decode calls
 * @param promptCacheEntries    slot caches saved in host memory now (see {@link EngineParams#promptCacheBytes()})
 * @param promptCacheBytes      bytes of KV state they hold
 * @param promptCacheRestores   saved caches restored into a slot for a request
 */
public record EngineStats(int slots, int activeSlots, int queued, long completed, long promptTokensEvaluated,
                          long promptTokensCached, long tokensGenerated, long decodes, int promptCacheEntries,
                          long promptCacheBytes, long promptCacheRestores) {

    /** Counters without the prompt cache's (all 0). */
    public EngineStats(int slots, int activeSlots, int queued, long completed, long promptTokensEvaluated,
                       long promptTokensCached, long tokensGenerated, long decodes) {
        this(slots, activeSlots, queued, completed, promptTokensEvaluated, promptTokensCached, tokensGenerated, decodes,
                0, 0, 0);
    }
}
