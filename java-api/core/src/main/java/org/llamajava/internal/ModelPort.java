package org.llamajava.internal;

import org.llamajava.bindings.llama_model;

/**
 * What llama-java's other packages ({@code chat}, {@code embed}, {@code multimodal}) need of an
 * open {@code Model}: its native handle, and freeing their native state with it. Given by
 * {@code Model.port()}. Internal: not API.
 */
public interface ModelPort {
    /**
     * The model's native handle, valid while the model is open and reachable: keep the model in a
     * local and fence it after the native call.
     *
     * @throws IllegalStateException if the model is closed
     */
    llama_model handle();

    /**
     * Makes {@code dependent} freed (first) when the model is closed, as its contexts are; returns
     * the action that unregisters it.
     *
     * @throws IllegalStateException if the model is closed
     */
    Runnable addDependent(NativeState dependent);
}
