package org.llamajava.batch;

import java.util.concurrent.CompletableFuture;
import org.llamajava.Completion;

/**
 * A submitted request: its {@link Completion} when done, and a way to cancel it. Text and tokens
 * stream to the request's {@link org.llamajava.GenerateOptions} callbacks as they are generated.
 */
public final class BatchHandle {
    private final CompletableFuture<Completion> completion = new CompletableFuture<>();
    private volatile boolean cancelled;
    /** When it was submitted ({@link System#nanoTime()}). */
    final long submittedAt = System.nanoTime();
    /** The engine's listeners when it was submitted (none: empty), and what each returned for it. */
    private final EngineListener[] listeners;
    private final Object[] attachments;

    BatchHandle() {
        this(NO_LISTENERS, null);
    }

    private static final EngineListener[] NO_LISTENERS = {};

    /** A handle whose request {@code listeners} observe; calls their {@link EngineListener#submitted}. */
    BatchHandle(EngineListener[] listeners, BatchRequest request) {
        this.listeners = listeners;
        this.attachments = listeners.length == 0 ? null : new Object[listeners.length];
        for (int i = 0; i < listeners.length; i++) {
            try {
                attachments[i] = listeners[i].submitted(request);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "an engine listener failed", e);
            }
        }
    }

    private static final System.Logger LOG = System.getLogger(BatchEngine.class.getName());

    /** Tells the listeners that the request finished (engine thread, before the future completes). */
    void finished(BatchRequest request, Completion c, int slot, long tookSlotAt, long firstTokenAt, long now) {
        if (listeners.length == 0) {
            return;
        }
        FinishedRequest r = new FinishedRequest(request, c, slot, (slot < 0 ? now : tookSlotAt) - submittedAt,
                firstTokenAt == 0 ? -1 : firstTokenAt - submittedAt, now - submittedAt);
        for (int i = 0; i < listeners.length; i++) {
            try {
                listeners[i].finished(r, attachments[i]);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "an engine listener failed", e);
            }
        }
    }

    /** Tells the listeners that the request failed with {@code t}. */
    void failed(BatchRequest request, Throwable t) {
        for (int i = 0; i < listeners.length; i++) {
            try {
                listeners[i].failed(request, t, attachments[i]);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "an engine listener failed", e);
            }
        }
    }

    /**
     * The result: completes with the {@link Completion} (finish reason
     * {@link org.llamajava.FinishReason#CANCELLED} if cancelled), or exceptionally if the request
     * failed or the engine closed before it finished.
     */
    public CompletableFuture<Completion> completion() {
        return completion;
    }

    /** Stops the request at the engine's next step and frees its slot; idempotent. */
    public void cancel() {
        cancelled = true;
    }

    /** Whether {@link #cancel()} was called. */
    public boolean isCancelled() {
        return cancelled;
    }

    /** Whether the request has finished (or failed). */
    public boolean isDone() {
        return completion.isDone();
    }
}
