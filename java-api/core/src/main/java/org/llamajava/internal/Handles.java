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

    /** A context's way to run a call ending in {@code llama_decode} (under its model's RPC guard, if any). */
    @FunctionalInterface
    public interface GuardedDecode {
        int decode(Object context, String what, java.util.function.IntSupplier call);
    }

    private static volatile GuardedDecode guardedDecodes;

    /** Called by {@code org.llamajava.Context}'s static initialiser. */
    public static void registerGuardedDecode(GuardedDecode accessor) {
        guardedDecodes = accessor;
    }

    /**
     * Runs {@code call}, which ends in {@code llama_decode} on {@code context}: on a model on RPC
     * servers under its guard (a worker thread, the wait for the outputs included), else directly.
     */
    public static int guardedDecode(Object context, String what, java.util.function.IntSupplier call) {
        return guardedDecodes.decode(context, what, call);
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
    // ---- multimodal (org.llamajava.multimodal) ------------------------------------------------

    private static volatile java.util.function.BiFunction<Object, NativeState, Runnable> dependents;
    private static volatile SequenceAccess sequences;

    /** Called by {@code org.llamajava.Model}'s static initialiser. */
    public static void registerDependents(java.util.function.BiFunction<Object, NativeState, Runnable> accessor) {
        dependents = accessor;
    }

    /**
     * Makes {@code dependent} freed (first) when {@code model} is closed, as the model's contexts
     * are; returns the action that unregisters it. IllegalStateException if the model is closed.
     */
    public static Runnable addDependent(Object model, NativeState dependent) {
        return dependents.apply(model, dependent);
    }

    /** Called by {@code org.llamajava.Sequence}'s static initialiser. */
    public static void registerSequences(SequenceAccess access) {
        sequences = access;
    }

    /** What {@code org.llamajava.Sequence} offers the multimodal package. */
    public static SequenceAccess sequences() {
        try {
            Class.forName("org.llamajava.Sequence", true, Handles.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        return sequences;
    }

    private static volatile org.llamajava.bindings.ggml_log_callback logCallback;

    /** Called by {@code org.llamajava.Llama.init()}: the callback routing native logs to java.util.logging. */
    public static void setLogCallback(org.llamajava.bindings.ggml_log_callback callback) {
        logCallback = callback;
    }

    /** The callback routing native logs (also mtmd's) to java.util.logging and NativeErrors; set once initialised. */
    public static org.llamajava.bindings.ggml_log_callback logCallback() {
        return logCallback;
    }

    /** Submits a media prompt to a batching engine; see {@code BatchEngine}. */
    public interface BatchMediaSubmitter {
        Object submit(Object engine, MediaPrompt prompt, org.llamajava.Sampler.Builder sampler,
                      org.llamajava.GenerateOptions options,
                      java.util.Map<org.llamajava.LoraAdapter, Float> loras);
    }

    private static volatile BatchMediaSubmitter batchMedia;

    /** Called by {@code org.llamajava.batch.BatchEngine}'s static initialiser. */
    public static void registerBatchMedia(BatchMediaSubmitter submitter) {
        batchMedia = submitter;
    }

    /** Submits a media prompt to {@code engine}; returns its {@code BatchHandle}. */
    public static Object submitMedia(Object engine, MediaPrompt prompt, org.llamajava.Sampler.Builder sampler,
                                     org.llamajava.GenerateOptions options,
                                     java.util.Map<org.llamajava.LoraAdapter, Float> loras) {
        return batchMedia.submit(engine, prompt, sampler, options, loras);
    }

    /** LoRA adapters for the batching engine, which switches them between steps; see {@code Context}. */
    public interface LoraSwitch {
        /** Marks {@code adapter} (checked: of the context's model, open) as in use until the context closes. */
        void hold(Object context, org.llamajava.LoraAdapter adapter);

        /** Applies exactly {@code adapters} to the context, keeping every sequence's cache. */
        void apply(Object context, java.util.Map<org.llamajava.LoraAdapter, Float> adapters);
    }

    private static volatile LoraSwitch loraSwitch;

    /** Called by {@code org.llamajava.Context}'s static initialiser. */
    public static void registerLoraSwitch(LoraSwitch s) {
        loraSwitch = s;
    }

    /** See {@link LoraSwitch#hold}. */
    public static void holdLora(Object context, org.llamajava.LoraAdapter adapter) {
        loraSwitch.hold(context, adapter);
    }

    /** See {@link LoraSwitch#apply}. */
    public static void switchLoras(Object context, java.util.Map<org.llamajava.LoraAdapter, Float> adapters) {
        loraSwitch.apply(context, adapters);
    }
}
