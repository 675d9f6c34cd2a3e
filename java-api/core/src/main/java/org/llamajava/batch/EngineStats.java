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
 */
public record EngineStats(int slots, int activeSlots, int queued, long completed, long promptTokensEvaluated,
                          long promptTokensCached, long tokensGenerated, long decodes) {}
