package org.llamajava;

import java.util.ArrayList;
import java.util.List;

/**
 * Cancels generations and prompt evaluations from any thread. Pass it in
 * {@link GenerateOptions}; {@link #abort()} stops the work within one native batch, and the
 * generation returns with {@link FinishReason#CANCELLED}. The context stays usable. A signal
 * stays aborted once aborted; use a new one for the next generation.
 */
public final class AbortSignal {
    private boolean aborted;
    private final List<Runnable> listeners = new ArrayList<>();

    /** Aborts the work this signal was given to; idempotent and thread-safe. */
    public void abort() {
        List<Runnable> run;
        synchronized (this) {
            if (aborted) {
                return;
            }
            aborted = true;
            run = new ArrayList<>(listeners);
        }
        run.forEach(Runnable::run);
    }

    /** Whether {@link #abort()} has been called. */
    public synchronized boolean isAborted() {
        return aborted;
    }

    /** Listeners registered now (for tests: one generation registers exactly one). */
    synchronized int listenerCount() {
        return listeners.size();
    }

    /** Runs {@code r} on abort (at once if already aborted); returns a handle that removes it. */
    synchronized Runnable onAbort(Runnable r) {
        if (aborted) {
            r.run();
        } else {
            listeners.add(r);
        }
        return () -> {
            synchronized (AbortSignal.this) {
                listeners.remove(r);
            }
        };
    }
}
