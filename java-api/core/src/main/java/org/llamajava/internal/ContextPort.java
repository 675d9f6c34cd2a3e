package org.llamajava.internal;

import java.util.Map;
import java.util.function.IntSupplier;
import org.llamajava.bindings.llama_context;

/**
 * What llama-java's other packages ({@code batch}, {@code embed}, {@code multimodal}) need of an
 * open {@code Context}: its decode path and handle, its single-thread guard, decoding under its
 * model's RPC guard, and switching LoRA adapters without emptying the cache. Given by
 * {@code Context.port()}. Internal: not API.
 *
 * @param <A> the LoRA adapter type ({@code org.llamajava.LoraAdapter})
 * @param <S> the sampler type ({@code org.llamajava.Sampler})
 */
public interface ContextPort<A, S> {
    /**
     * The native handle.
     *
     * @throws IllegalStateException if the context is closed
     */
    llama_context handle();

    /** The decode path; callers hold the context ({@link #enter()}). */
    BatchDecoder<S> decoder();

    /**
     * Claims the context for the calling thread, as its own calls do: another thread's call, and
     * closing it (or its model), fail with IllegalStateException until {@link #exit}. Nests.
     */
    void enter();

    /** Releases one {@link #enter}. */
    void exit();

    /**
     * Runs {@code call}, which ends in {@code llama_decode} on this context: on a model on RPC
     * servers under its guard (a worker thread, the wait for the outputs included), else directly.
     */
    int guardedDecode(String what, IntSupplier call);

    /** Marks {@code adapter} (checked: of the context's model, open) as in use until the context closes. */
    void holdLora(A adapter);

    /** Applies exactly {@code adapters}, keeping every sequence's cache (the batching engine's switch). */
    void switchLoras(Map<A, Float> adapters);
}
