package org.llamajava.internal;

import java.util.function.Function;
import org.llamajava.bindings.llama_context;
import org.llamajava.bindings.llama_model;

/**
 * Gives llama-java's other packages the native handles of API objects, which those objects keep
 * package-private: each API class registers its accessor when it is initialised (which has
 * happened once an instance exists). A handle is only valid while its owner is open and
 * reachable: keep the owner in a local and fence it after the native call. Internal: not part of
 * the API.
 */
public final class Handles {
    private static volatile Function<Object, llama_model> models;
    private static volatile Function<Object, llama_context> contexts;

    private Handles() {}

    /** Called by {@code org.llamajava.Model}'s static initialiser. */
    public static void registerModels(Function<Object, llama_model> accessor) {
        models = accessor;
    }

    /** Called by {@code org.llamajava.Context}'s static initialiser. */
    public static void registerContexts(Function<Object, llama_context> accessor) {
        contexts = accessor;
    }

    /** The open model's native handle; IllegalStateException once it is closed. */
    public static llama_model model(Object model) {
        return models.apply(model);
    }

    private static volatile Function<Object, BatchDecoder> decoders;

    /** Called by {@code org.llamajava.Context}'s static initialiser. */
    public static void registerDecoders(Function<Object, BatchDecoder> accessor) {
        decoders = accessor;
    }

    /** The open context's decode path; IllegalStateException once it is closed. */
    public static BatchDecoder decoder(Object context) {
        return decoders.apply(context);
    }

    /** The open context's native handle; IllegalStateException once it is closed. */
    public static llama_context context(Object context) {
        return contexts.apply(context);
    }

    private static volatile java.util.function.Consumer<Object> enters;
    private static volatile java.util.function.Consumer<Object> exits;

    /** Called by {@code org.llamajava.Context}'s static initialiser. */
    public static void registerGuards(java.util.function.Consumer<Object> enter, java.util.function.Consumer<Object> exit) {
        enters = enter;
        exits = exit;
    }

    /**
     * Claims the context for the calling thread, as its own calls do: another thread's call, and
     * closing it (or its model), fail with IllegalStateException until {@link #exit}. Nests.
     */
    public static void enter(Object context) {
        enters.accept(context);
    }

    /** Releases one {@link #enter}. */
    public static void exit(Object context) {
        exits.accept(context);
    }
}
