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

    BatchHandle() {}

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
