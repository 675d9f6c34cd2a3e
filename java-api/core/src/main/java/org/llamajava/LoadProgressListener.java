package org.llamajava;

/** Receives a model's load progress; return false to cancel the load. */
@FunctionalInterface
public interface LoadProgressListener {
    /**
     * @param progress fraction loaded, from 0.0 to 1.0
     * @return true to continue loading, false to cancel it (the load then fails with
     *     {@link LoadCancelledException})
     */
    boolean onProgress(float progress);
}
