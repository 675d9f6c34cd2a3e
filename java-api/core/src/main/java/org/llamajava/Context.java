package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.bytedeco.javacpp.Pointer;
import org.llamajava.bindings.llama_context;
import org.llamajava.bindings.llama_context_params;
import org.llamajava.bindings.llama_memory_i;
import org.llamajava.bindings.llama_model;
import org.llamajava.internal.BatchDecoder;
import org.llamajava.internal.ContextCreateEvent;
import org.llamajava.internal.ContextPort;
import org.llamajava.internal.Jfr;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.NativeState;

/**
 * An inference context over a {@link Model}: a KV cache of {@link #contextSize()} tokens shared by
 * up to {@link ContextParams#sequences()} {@link Sequence}s, the batch it decodes, and the logits
 * of the last decoded token.
 *
 * <p>The methods {@link #decode}, {@link #generate}, {@link #position} and {@link #clear} work on
 * a default sequence, for the common single-conversation case; {@link #newSequence()} gives more.
 *
 * <p>A Context is single-threaded: a call made while another thread is inside a call on the same
 * Context (or one of its sequences) fails with {@link IllegalStateException} instead of
 * corrupting state. It may be handed from one thread to another between calls. Only
 * {@link AbortSignal#abort()} may be called from another thread during a call.
 *
 * <pre>{@code
 * try (Context ctx = model.createContext(ContextParams.defaults());
 *      Sampler sampler = Sampler.greedy()) {
 *     Completion c = ctx.generate(model.vocabulary().tokenize("Once upon a time"), sampler, 32,
 *                                 System.out::print);
 * }
 * }</pre>
 */
public final class Context implements AutoCloseable {
    private final Model model;
    private final Vocabulary vocab;
    private final ContextParams params;
    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final int nCtx;
    private final boolean canShift;
    private final Sequence[] sequences;
    private Sequence defaultSequence;
    private final ContextAdapters adapters;
    private final Port port = new Port();

    Context(Model model, ContextParams params) {
        if (model.isVocabOnly()) {
            throw new IllegalStateException("Model " + model.path() + " was loaded vocabOnly; it has no weights to run");
        }
        // llama.cpp caps a causal model's n_batch at the requested n_ctx, reserves an output per
        // sequence in every batch, and asserts (aborting the process) while creating the context if
        // they do not fit
        int ctxTokens = params.contextSize() == 0 ? model.trainingContextLength() : params.contextSize();
        if (params.sequences() > Math.min(params.batchSize(), ctxTokens)) {
            throw new IllegalArgumentException("sequences (" + params.sequences() + ") must not exceed the context size ("
                    + ctxTokens + "): llama.cpp caps the batch at the context size and every batch reserves an output"
                    + " per sequence; use fewer sequences or a larger context");
        }
        int pooledTokens = Math.min(ctxTokens, params.ubatchSize());
        if (params.pooling() != null && params.pooling() != Pooling.NONE && pooledTokens % params.sequences() != 0) {
            // the worst-case pooling graph splits n_ubatch tokens evenly over the sequences
            throw new IllegalArgumentException("a pooling context's sequences (" + params.sequences() + ") must divide"
                    + " its physical batch (" + pooledTokens + " tokens), or llama.cpp cannot plan its pooling graph");
        }
        // a KV cache larger than the GPU's memory can abort the process inside ggml (lavapipe: its scheduler's
        // "pre-allocated tensor in a buffer that cannot run the operation") instead of failing the allocation
        boolean offloadKv = true;
        String kvTooBig = kvCacheBeyondDeviceMemory(model, ctxTokens, params);
        if (kvTooBig != null) {
            if (!model.deviceFallback()) {
                throw new DeviceUnavailableException(kvTooBig + "; use a smaller contextSize, a quantized KV cache"
                        + " (keyType/valueType), fewer gpuLayers, or ModelParams.deviceFallback(true) to keep the KV cache"
                        + " in host memory");
            }
            System.getLogger(Context.class.getName()).log(System.Logger.Level.WARNING,
                    kvTooBig + ": keeping the KV cache in host memory (deviceFallback)");
            offloadKv = false;
        }
        this.model = model;
        this.params = params;
        this.vocab = model.vocabulary();
        llama_context ctx = create(model, params, offloadKv);
        boolean onDevices = !model.devices().isEmpty() && model.devices().stream().noneMatch(d -> d.startsWith("RPC"));
        if ((ctx == null || ctx.isNull()) && onDevices && offloadKv) {
            // a KV cache or compute buffer the GPU could not allocate (its memory, or its largest allocation)
            String message = "failed to create a context (n_ctx " + params.contextSize() + ", KV " + params.keyType() + "/"
                    + params.valueType() + ") with its KV cache on " + String.join(", ", model.devices())
                    + " (out of device memory?)" + NativeErrors.suffix();
            if (!model.deviceFallback()) {
                throw new DeviceUnavailableException(message + "; use a smaller contextSize, a quantized KV cache,"
                        + " fewer gpuLayers, or ModelParams.deviceFallback(true) to keep the KV cache in host memory");
            }
            System.getLogger(Context.class.getName()).log(System.Logger.Level.WARNING,
                    message + ": keeping the KV cache in host memory (deviceFallback)");
            ctx = create(model, params, false);
        }
        if (ctx == null || ctx.isNull()) {
            throw new LlamaException("failed to create a context (n_ctx " + params.contextSize() + ", n_batch "
                    + params.batchSize() + ", KV " + params.keyType() + "/" + params.valueType() + ")"
                    + NativeErrors.suffix());
        }
        this.nCtx = llama_n_ctx(ctx);
        this.canShift = llama_memory_can_shift(llama_get_memory(ctx));
        // persistent CPU worker threads: without them ggml starts and joins threads on every decode
        Pointer pools = llamajava_threadpools_attach(ctx, params.threads(), params.threadsBatch());
        this.state = new State(ctx, new Decoder(ctx, vocab, params.sequences(), llama_get_memory(ctx) == null,
                model.rpcGuard()), pools, model.rpcGuard());
        llamajava_set_abort_flag(ctx, state.decoder.abortFlag);
        this.sequences = new Sequence[params.sequences()];
        this.adapters = new ContextAdapters(this);
        this.cleanable = state.register(this);
        state.detach = model.addDependent(state);
    }

    /** llama_init_from_model with these parameters ({@code offloadKv}: llama.cpp's offload_kqv); null or NULL on failure. */
    private static llama_context create(Model model, ContextParams params, boolean offloadKv) {
        llama_context ctx;
        try (llama_context_params p = llama_context_default_params()) {
            p.n_ctx(params.contextSize()).n_batch(params.batchSize()).n_ubatch(params.ubatchSize())
                    .n_seq_max(params.sequences()).n_threads(params.threads())
                    .n_threads_batch(params.threadsBatch()).type_k(params.keyType().ggmlType)
                    .type_v(params.valueType().ggmlType).flash_attn_type(params.flashAttention().value)
                    // a unified KV buffer lets sequences share the whole context, but costs about a
                    // quarter of the per-token speed of a small model: only where it is needed
                    .kv_unified(params.sequences() > 1).no_perf(true).offload_kqv(offloadKv);
            if (params.pooling() != null) {
                p.embeddings(true).pooling_type(params.pooling().value());
            }
            NativeErrors.clear();
            llama_model m = model.handle();
            RpcGuard rpc = model.rpcGuard();
            ContextCreateEvent event = Jfr.contextCreate() ? new ContextCreateEvent() : null;
            if (event != null) {
                event.begin();
            }
            ctx = rpc == null ? llama_init_from_model(m, p)
                    : rpc.call("creating a context", () -> llama_init_from_model(m, p));
            if (event != null) {
                event.end();
                event.contextSize = ctx == null || ctx.isNull() ? params.contextSize() : llama_n_ctx(ctx);
                event.batchSize = params.batchSize();
                event.ubatchSize = params.ubatchSize();
                event.sequences = params.sequences();
                event.threads = params.threads();
                event.kvTypes = params.keyType() + "/" + params.valueType();
                event.succeeded = ctx != null && !ctx.isNull();
                event.commit();
            }
        }
        return ctx;
    }

    /**
     * Where the KV cache of {@code ctxTokens} tokens for the model's offloaded layers is larger than the free
     * memory of the (local) devices they went to, says so; else null. An estimate of llama.cpp's own sizing
     * (n_ctx x offloaded layers x KV heads x (key + value head size) x the cache types' size), made only for
     * plain attention models, where it is exact up to llama.cpp's padding: not for recurrent or hybrid models,
     * sliding-window attention or compressed (MLA) caches, which it would overstate, nor for RPC devices.
     */
    static String kvCacheBeyondDeviceMemory(Model model, long ctxTokens, ContextParams params) {
        List<String> devs = model.devices();
        if (devs.isEmpty() || devs.stream().anyMatch(d -> d.startsWith("RPC"))) {
            return null;
        }
        llama_model m = model.handle();
        String arch = model.architecture();
        if (llama_model_is_recurrent(m) || llama_model_is_hybrid(m) || llama_model_n_swa(m) > 0
                || model.metadata(arch + ".attention.kv_lora_rank") != null) {
            return null;
        }
        int layers = model.layerCount();
        int requested = model.gpuLayersRequested();
        long offloaded = requested < 0 ? layers : Math.min(requested, layers);
        int heads = llama_model_n_head(m);
        int headsKv = llama_model_n_head_kv(m);
        if (offloaded <= 0 || heads <= 0 || headsKv <= 0) {
            return null;
        }
        long headK = metadataLong(model, arch + ".attention.key_length", model.embeddingSize() / heads);
        long headV = metadataLong(model, arch + ".attention.value_length", model.embeddingSize() / heads);
        double perToken = headsKv * (headK * ggml_type_sizef(params.keyType().ggmlType)
                + headV * ggml_type_sizef(params.valueType().ggmlType));
        double kv = ctxTokens * offloaded * perToken;
        long free = 0;
        for (Device d : Llama.devices()) {
            if (devs.contains(d.name())) {
                free += d.memoryFree();
            }
        }
        if (free <= 0 || kv <= free) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "the KV cache of a %d-token context (%.1f MiB for %d offloaded layers,"
                + " %s/%s) does not fit the free memory of %s (%.1f MiB)", ctxTokens, kv / (1 << 20), offloaded,
                params.keyType(), params.valueType(), String.join(", ", devs), free / (double) (1 << 20));
    }

    private static long metadataLong(Model model, String key, long otherwise) {
        String v = model.metadata(key);
        try {
            return v == null ? otherwise : Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    /** The model this context runs. */
    public Model model() {
        return model;
    }

    /** The parameters it was created with. */
    public ContextParams params() {
        return params;
    }

    /** Tokens this context can hold (n_ctx; llama.cpp may round the requested size up). */
    public int contextSize() {
        return nCtx;
    }

    /** Most tokens per native decode call (n_batch); longer inputs are split. */
    public int batchSize() {
        return state.decoder.capacity();
    }

    /** Whether the model's KV cache can shift positions ({@link OverflowPolicy#shift}). */
    public boolean canShift() {
        return canShift;
    }

    /**
     * Bytes the KV cache takes: n_ctx × layers × (K + V rows of n_head_kv × head size) in the
     * chosen cache types.
     */
    public long kvCacheBytes() {
        llama_context ctx = handle();
        long headSize = model.embeddingSize() / Math.max(1, llama_model_n_head(model.handle()));
        long rowElements = headSize * llama_model_n_head_kv(model.handle());
        long perLayer = ggml_row_size(params.keyType().ggmlType, rowElements)
                + ggml_row_size(params.valueType().ggmlType, rowElements);
        return (long) llama_n_ctx(ctx) * model.layerCount() * perLayer;
    }

    /** Tokens held by all open sequences together (forked prefixes count once per sequence). */
    public int tokensHeld() {
        int n = 0;
        for (Sequence s : sequences) {
            if (s != null) {
                n += s.length();
            }
        }
        return n;
    }

    /**
     * A new, empty sequence in this context's KV cache.
     *
     * @throws IllegalStateException if all {@link ContextParams#sequences()} are in use
     */
    public Sequence newSequence() {
        enter();
        try {
            return new Sequence(this, allocateId());
        } finally {
            exit();
        }
    }

    // ---- the default sequence ----------------------------------------------------------------

    /** The default sequence used by this class's single-sequence methods. */
    public Sequence defaultSequence() {
        enter();
        try {
            if (defaultSequence == null || defaultSequence.isClosed()) {
                defaultSequence = new Sequence(this, allocateId());
            }
            return defaultSequence;
        } finally {
            exit();
        }
    }

    /** Tokens evaluated so far in the default sequence. */
    public int position() {
        return defaultSequence == null || defaultSequence.isClosed() ? 0 : defaultSequence.length();
    }

    /** Tokens that still fit in the context. */
    public int remaining() {
        return nCtx - tokensHeld();
    }

    /**
     * Evaluates tokens after those already in the default sequence, in batches of
     * {@link #batchSize()}, keeping the logits of the last one.
     *
     * @throws ContextOverflowException if they do not fit (and the overflow policy does not shift)
     * @throws IllegalArgumentException if a token id is outside the vocabulary or none is given
     */
    public void decode(int[] tokens) {
        defaultSequence().append(tokens);
    }

    /**
     * The logits of the last decoded token, one per vocabulary entry, read in place from native
     * memory (no copy). Valid until the next decode or close.
     */
    public FloatBuffer logits() {
        enter();
        try {
            return state.decoder.lastLogits();
        } finally {
            exit();
        }
    }

    /** Empties the default sequence. */
    public void clear() {
        if (defaultSequence != null && !defaultSequence.isClosed()) {
            defaultSequence.clear();
        }
    }

    /**
     * Appends the prompt to the default sequence, then samples up to {@code maxTokens} tokens and
     * streams their text; see {@link Sequence#generate(int[], Sampler, GenerateOptions)}.
     *
     * @param prompt tokens to evaluate first; may be empty to continue from the last token
     * @param onText receives each piece of text as it is generated; may be null
     */
    public Completion generate(int[] prompt, Sampler sampler, int maxTokens, Consumer<String> onText) {
        vocab.checkTokens(prompt);
        Sequence seq = defaultSequence();
        int[] all = prompt;
        if (seq.length() > 0 && prompt.length > 0) {
            int[] held = seq.tokens();
            all = new int[held.length + prompt.length];
            System.arraycopy(held, 0, all, 0, held.length);
            System.arraycopy(prompt, 0, all, held.length, prompt.length);
        }
        GenerateOptions opts = GenerateOptions.builder().maxTokens(maxTokens).onText(onText).build();
        return prompt.length == 0 ? seq.generate(sampler, opts) : seq.generate(all, sampler, opts);
    }

    // ---- adapters (kept by ContextAdapters) ----------------------------------------------------

    /**
     * Applies a LoRA adapter of this context's model at {@code scale} (1 is the adapter as
     * trained, 0 leaves the model as it is), beside any others already applied; applying it again
     * changes its scale. The adapters take effect from the next decode. Because the KV cache holds
     * what the earlier weights computed, a change empties every sequence of this context.
     *
     * @throws IllegalArgumentException if the adapter belongs to another model or the scale is not finite
     * @throws IllegalStateException if the adapter is closed
     */
    public void setLoraAdapter(LoraAdapter adapter, float scale) {
        adapters.setLora(adapter, scale);
    }

    /**
     * Replaces the applied LoRA adapters by these, each at its scale (an empty map removes all);
     * see {@link #setLoraAdapter}.
     */
    public void setLoraAdapters(java.util.Map<LoraAdapter, Float> adapters) {
        this.adapters.setLoras(adapters);
    }

    /** Stops applying a LoRA adapter (nothing happens if it is not applied); see {@link #setLoraAdapter}. */
    public void removeLoraAdapter(LoraAdapter adapter) {
        adapters.removeLora(adapter);
    }

    /** Removes every LoRA adapter; see {@link #setLoraAdapter}. */
    public void clearLoraAdapters() {
        adapters.clearLoras();
    }

    /** The LoRA adapters applied now, with their scales, in the order they were applied. */
    public java.util.Map<LoraAdapter, Float> loraAdapters() {
        return adapters.loras();
    }

    /**
     * Applies a control vector to layers {@code layerStart} to {@code layerEnd} (both inclusive,
     * counted from 1 as llama.cpp's {@code --control-vector-layer-range} counts), replacing any
     * earlier one; it is added to those layers' output from the next decode. A change empties every
     * sequence of this context (their cache was computed without it).
     *
     * @throws IllegalArgumentException if its embedding size is not the model's or the range is outside 1..layers
     */
    public void setControlVector(ControlVector vector, int layerStart, int layerEnd) {
        adapters.setControlVector(vector, layerStart, layerEnd);
    }

    /** Applies a control vector to every layer its data covers, as llama.cpp's common does by default. */
    public void setControlVector(ControlVector vector) {
        setControlVector(vector, 1, model.layerCount());
    }

    /** Removes the control vector (nothing happens if none is applied); empties every sequence if there was one. */
    public void clearControlVector() {
        adapters.clearControlVector();
    }

    /** The control vector applied now, or null. */
    public ControlVector controlVector() {
        return adapters.controlVector();
    }

    void clearSequences() {
        for (Sequence s : sequences) {
            if (s != null && !s.isClosed()) {
                s.clear();
            }
        }
    }

    /** Waits until every computation queued on the device is done (a no-op on the CPU backend). */
    public void synchronize() {
        enter();
        try {
            llama_synchronize(handle());
        } finally {
            exit();
        }
    }

    /** Whether {@link #close()} has been called (or the model was closed). */
    public boolean isClosed() {
        return state.isFreed();
    }

    /** Frees the context's native memory; idempotent. */
    @Override
    public void close() {
        if (state.isFreed()) {
            return;
        }
        if (!state.tryClaim()) {
            throw new IllegalStateException(state.user() == Thread.currentThread()
                    ? "cannot close a Context from inside one of its own calls (e.g. a generation callback)"
                    : "cannot close a Context while thread '" + state.user().getName() + "' is using it");
        }
        cleanable.clean();
    }

    /**
     * Not API: how llama-java's own packages ({@code batch}, {@code embed}, {@code multimodal})
     * reach this context's decode path. Applications must not use it; its type is in
     * {@code org.llamajava.internal}, which no code outside llama-java's core may use.
     */
    public ContextPort<LoraAdapter, Sampler> port() {
        return port;
    }

    private final class Port implements ContextPort<LoraAdapter, Sampler> {
        @Override
        public llama_context handle() {
            return Context.this.handle();
        }

        @Override
        public BatchDecoder<Sampler> decoder() {
            return Context.this.decoder();
        }

        @Override
        public void enter() {
            Context.this.enter();
        }

        @Override
        public void exit() {
            Context.this.exit();
        }

        @Override
        public int guardedDecode(String what, java.util.function.IntSupplier call) {
            return Context.this.guardedDecode(what, call);
        }

        @Override
        public void holdLora(LoraAdapter adapter) {
            adapters.hold(adapter);
        }

        @Override
        public void switchLoras(java.util.Map<LoraAdapter, Float> adapters) {
            Context.this.adapters.apply(new java.util.LinkedHashMap<>(adapters), false);
        }
    }

    // ---- package-private: used by Sequence ------------------------------------------------------

    Vocabulary vocab() {
        return vocab;
    }

    OverflowPolicy overflow() {
        return params.overflow();
    }

    llama_memory_i memory() {
        return llama_get_memory(handle());
    }

    llama_context handle() {
        if (state.isFreed()) {
            throw new IllegalStateException(model.isClosed() ? "Context is closed (its Model was closed)" : "Context is closed");
        }
        return state.ctx;
    }

    /** The decode path; callers hold this context ({@link #enter()}). */
    Decoder decoder() {
        handle();
        return state.decoder;
    }

    /** Samples from the current logits, whichever sequence they belong to ({@link Sampler#sample}). */
    int sampleCurrent(Sampler sampler) {
        enter();
        try {
            return state.decoder.sampleLast(sampler);
        } finally {
            exit();
        }
    }

    void release(Sequence s) {
        if (!state.isFreed()) {
            llama_memory_seq_rm(llama_get_memory(state.ctx), s.id(), -1, -1);
            state.decoder.forgetLogits(s.id());
        }
        sequences[s.id()] = null;
    }

    void register(Sequence s) {
        sequences[s.id()] = s;
    }

    int allocateId() {
        handle();
        for (int i = 0; i < sequences.length; i++) {
            if (sequences[i] == null) {
                return i;
            }
        }
        throw new IllegalStateException("all " + sequences.length + " sequences of this Context are in use: close one,"
                + " or create the Context with ContextParams.builder().sequences(n)");
    }

    /** Runs a native call that may reach RPC servers: under the model's {@link RpcGuard} if it has one. */
    long guarded(String what, java.util.function.LongSupplier call) {
        RpcGuard rpc = state.rpc;
        return rpc == null ? call.getAsLong() : rpc.call(what, call::getAsLong);
    }

    /**
     * Runs a call that ends in {@code llama_decode} (a media chunk's evaluation): under the
     * model's {@link RpcGuard} if it has one, waiting there for the outputs too.
     */
    int guardedDecode(String what, java.util.function.IntSupplier call) {
        RpcGuard rpc = state.rpc;
        if (rpc == null) {
            return call.getAsInt();
        }
        llama_context c = state.ctx;
        return rpc.callInt(what, () -> {
            int r = call.getAsInt();
            llama_synchronize(c);
            return r;
        });
    }

    void enter() {
        handle();
        if (state.rpc != null) {
            state.rpc.check();
        }
        Thread t = Thread.currentThread();
        Thread u = state.user.get();
        if (u != t) {
            if (!state.user.compareAndSet(null, t)) {
                Thread other = state.user.get();
                throw new IllegalStateException("Context is in use by thread '" + (other == null ? "?" : other.getName())
                        + "'; a Context is single-threaded: give each thread its own Context");
            }
        }
        state.depth++;
        if (state.isFreed()) { // closed by its model's owner between the check and the claim
            exit();
            handle();
        }
    }

    void exit() {
        if (--state.depth == 0) {
            state.user.set(null);
        }
    }

    private static final class State extends NativeState {
        final llama_context ctx;
        final Decoder decoder;
        /** The thread inside a call on this context, or the one closing it. */
        final AtomicReference<Thread> user = new AtomicReference<>();
        /** Nesting of calls by {@link #user} (touched by that thread only). */
        int depth;

        /** The CPU thread pools attached to ctx (null if the backend has none); freed after ctx. */
        final Pointer pools;

        /** The model's RPC guard, or null. */
        final RpcGuard rpc;

        State(llama_context ctx, Decoder decoder, Pointer pools, RpcGuard rpc) {
            this.ctx = ctx;
            this.decoder = decoder;
            this.pools = pools;
            this.rpc = rpc;
        }

        @Override
        public boolean tryClaim() {
            Thread t = Thread.currentThread();
            return user.compareAndSet(null, t) || (user.get() == t && depth == 0);
        }

        @Override
        public void release() {
            user.compareAndSet(Thread.currentThread(), null);
        }

        @Override
        public Thread user() {
            return user.get();
        }

        /** Removes this state from its model's dependents once freed (also when the Cleaner frees it). */
        Runnable detach;

        @Override
        protected void free() {
            if (rpc == null) {
                llama_free(ctx);
            } else {
                rpc.free("a context", () -> llama_free(ctx));
            }
            // after an RPC failure a worker may still be parked inside llama_decode with this
            // context's batch and thread pools: they stay allocated
            if (rpc == null || !rpc.failed()) {
                decoder.free();
                if (pools != null && !pools.isNull()) {
                    llamajava_threadpools_free(pools);
                }
            }
            if (detach != null) {
                detach.run();
            }
        }
    }
}
