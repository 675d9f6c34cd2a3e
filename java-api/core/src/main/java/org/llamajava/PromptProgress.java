package org.llamajava;

/**
 * Told how far a prompt's evaluation has come, as llama-server's {@code prompt_progress} reports
 * it. The batching engine tells it first before any token is evaluated ({@code processed ==
 * cached}), then after each native batch that evaluated some of the prompt, the last time with
 * {@code processed == total}; a {@link Sequence}, which evaluates its prompt in one call, tells
 * only that last time. It runs on the generating thread: keep it short.
 */
@FunctionalInterface
public interface PromptProgress {
    /**
     * @param total     the prompt's tokens
     * @param cached    of those, tokens reused from the cache (not evaluated)
     * @param processed tokens of the prompt that are in the cache now (reused and evaluated)
     * @param nanos     time spent evaluating the prompt so far
     */
    void progress(int total, int cached, int processed, long nanos);
}
