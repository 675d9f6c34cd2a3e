package org.llamajava.internal;

import java.lang.ref.Cleaner;

/**
 * The native half of an {@link AutoCloseable} API object: frees its native memory exactly once,
 * either on {@code close()} or, as a safety net, when the owner becomes unreachable.
 *
 * <p>A state never refers back to its owner, so that the {@link Cleaner} can run it. Internal:
 * not part of the API.
 */
public abstract class NativeState implements Runnable {
    private static final Cleaner CLEANER = Cleaner.create();

    private boolean freed;

    /** Registers this state to be run when {@code owner} becomes unreachable. */
    public final Cleaner.Cleanable register(Object owner) {
        return CLEANER.register(owner, this);
    }

    /** Frees the native memory on the first call; later calls do nothing. */
    @Override
    public final synchronized void run() {
        if (!freed) {
            freed = true;
            free();
        }
    }

    /** True once freed. */
    public final synchronized boolean isFreed() {
        return freed;
    }

    /**
     * Claims this object for the calling thread so that no other thread uses it while its owner
     * frees it; false if another thread is using it now. Objects without a thread guard always
     * succeed.
     */
    public boolean tryClaim() {
        return true;
    }

    /** Releases a claim made by {@link #tryClaim()} that was not followed by freeing. */
    public void release() {}

    /** The thread using this object right now, or null. */
    public Thread user() {
        return null;
    }

    /** Frees the native memory; called at most once. */
    protected abstract void free();
}
