package org.llamajava.embed;

/** Hears how far a long {@link Embedder#embedAll(java.util.List, ProgressListener)} has come. */
@FunctionalInterface
public interface ProgressListener {
    /** Called after each native batch: {@code done} of {@code total} inputs are embedded. */
    void onProgress(int done, int total);
}
