package org.llamajava.batch;

import org.llamajava.Completion;

/**
 * A request a {@link BatchEngine} finished, as {@link EngineListener#finished} sees it: the
 * request, its {@link Completion} (tokens, prompt tokens evaluated and reused, finish reason) and
 * its times, counted from when it was submitted.
 *
 * @param request               the request
 * @param completion            its result, as its future gets it
 * @param slot                  the slot that served it, or -1 if it was cancelled before it took one
 * @param queueNanos            from submitting until it took a slot
 * @param timeToFirstTokenNanos from submitting until its first token was sampled; -1 if none was
 * @param durationNanos         from submitting until it finished
 */
public record FinishedRequest(BatchRequest request, Completion completion, int slot, long queueNanos,
                              long timeToFirstTokenNanos, long durationNanos) {

    /** Prompt tokens in all: evaluated and reused from a slot's cache. */
    public int inputTokens() {
        return completion.promptTokens() + completion.cachedTokens();
    }

    /** Tokens generated. */
    public int outputTokens() {
        return completion.tokenCount();
    }
}
