package org.llamajava.batch;

/**
 * Observes a {@link BatchEngine}'s requests, for metrics and tracing (see
 * {@link BatchEngine#addListener}). Called once per request, never per token: {@link #submitted}
 * on the thread that submits, then exactly one of {@link #finished} or {@link #failed}, on the
 * engine's thread just before the request's future completes (so that whoever waits for the
 * future sees what the listener recorded). A listener must be quick and must not block: it runs
 * between the engine's decode steps. What it throws is logged and otherwise ignored.
 *
 * <pre>{@code
 * engine.addListener(new EngineListener() {
 *     public void finished(FinishedRequest r, Object attachment) {
 *         log.info("{} tokens, first after {} ms", r.completion().tokens().length, r.timeToFirstTokenNanos() / 1e6);
 *     }
 * });
 * }</pre>
 */
public interface EngineListener {
    /**
     * A request was accepted by {@link BatchEngine#submit} (on the submitting thread, before it is
     * queued). What it returns is handed back to {@link #finished} or {@link #failed} for this
     * request: a tracing span, for instance, started here so that it has the submitting thread's
     * trace as parent.
     *
     * @return anything, or null
     */
    default Object submitted(BatchRequest request) {
        return null;
    }

    /**
     * A request finished, whatever its finish reason (a cancelled request finishes too, as
     * {@link org.llamajava.FinishReason#CANCELLED}).
     *
     * @param attachment what {@link #submitted} returned for it
     */
    default void finished(FinishedRequest request, Object attachment) {}

    /**
     * A request failed: its future completes exceptionally with {@code error} (a native failure,
     * the engine closing, or a full queue).
     *
     * @param attachment what {@link #submitted} returned for it
     */
    default void failed(BatchRequest request, Throwable error, Object attachment) {}
}
