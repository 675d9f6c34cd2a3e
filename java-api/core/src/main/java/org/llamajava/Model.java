package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.BytePointer;
import org.llamajava.bindings.global.llama;
import org.llamajava.bindings.llama_model;
import org.llamajava.bindings.llama_model_params;
import org.llamajava.bindings.llama_model_tensor_buft_override;
import org.llamajava.gguf.GgufFile;
import org.llamajava.internal.Fence;
import org.llamajava.internal.Jfr;
import org.llamajava.internal.ModelLoadEvent;
import org.llamajava.internal.ModelPort;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.NativeState;
import org.llamajava.internal.NativeStrings;

/**
 * A GGUF model loaded into memory: its weights, vocabulary and metadata.
 *
 * <p>A Model is safe to share between threads; each thread creates its own {@link Context} over
 * it. Closing a Model first closes every {@link Context} still open on it, then frees the weights;
 * any later call on the Model or those contexts throws {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("model.gguf"))) {
 *     int[] ids = model.vocabulary().tokenize("Hello", true, true);
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final Path path;
    private final Vocabulary vocabulary;
    private final boolean vocabOnly;
    private final java.util.List<Path> parts;
    private final java.util.List<String> devices;
    // what was asked for at load: how many layers go to the GPU (ModelParams.gpuLayers) and whether to fall back
    private final int gpuLayers;
    private final boolean deviceFallback;

    private Model(State state, Path path, java.util.List<Path> parts, boolean vocabOnly, java.util.List<String> devices,
                  int gpuLayers, boolean deviceFallback) {
        this.state = state;
        this.devices = devices;
        this.gpuLayers = gpuLayers;
        this.deviceFallback = deviceFallback;
        this.path = path;
        this.parts = parts;
        this.vocabOnly = vocabOnly;
        this.cleanable = state.register(this);
        this.vocabulary = new Vocabulary(this, llama_model_get_vocab(state.model));
    }

    /** Loads a model with {@link ModelParams#defaults()}. */
    public static Model load(Path path) {
        return load(path, ModelParams.defaults());
    }

    /**
     * Loads a model.
     *
     * @throws LlamaException if the file is missing, not GGUF, truncated or otherwise unloadable
     * @throws LoadCancelledException if the progress listener cancelled the load
     */
    public static Model load(Path path, ModelParams params) {
        return load(path, null, params);
    }

    /**
     * Loads a model split into several GGUF files (as {@code llama-gguf-split} writes them), given
     * every part in order; the parts may be named freely. {@link #load(Path, ModelParams)} on the
     * first part of a model named {@code NAME-00001-of-0000N.gguf} finds the others by itself.
     *
     * @throws LlamaException if a part is missing, not GGUF, out of order or from another split
     */
    public static Model loadSplits(java.util.List<Path> parts, ModelParams params) {
        if (parts == null || parts.isEmpty()) {
            throw new IllegalArgumentException("no model parts given");
        }
        return load(parts.get(0), java.util.List.copyOf(parts), params);
    }

    private static Model load(Path path, java.util.List<Path> parts, ModelParams params) {
        ModelLoadEvent event = Jfr.modelLoad() ? new ModelLoadEvent() : null;
        if (event == null) {
            return loadFiles(path, parts, params);
        }
        event.begin();
        Model m = null;
        try {
            m = loadFiles(path, parts, params);
            return m;
        } finally {
            event.end();
            if (event.shouldCommit()) {
                event.file = String.valueOf(path);
                event.succeeded = m != null;
                if (m != null) {
                    long size = 0;
                    for (Path part : m.parts()) {
                        try {
                            size += java.nio.file.Files.size(part);
                        } catch (java.io.IOException | RuntimeException e) {
                            // the size is only informative
                        }
                    }
                    event.size = size;
                    event.parts = m.parts().size();
                }
                if (params != null) {
                    event.gpuLayers = params.gpuLayers();
                    event.vocabOnly = params.vocabOnly();
                    // the CPU, the local devices by name (Vulkan0, CUDA0), and RPC servers by endpoint
                    StringBuilder d = new StringBuilder("CPU");
                    if (m != null) {
                        m.devices().stream().filter(n -> !n.startsWith("RPC")).forEach(n -> d.append(", ").append(n));
                    } else if (Llama.isGpuBuild() && params.gpuLayers() != 0) {
                        d.append(", GPU");
                    }
                    if (!params.rpcServers().isEmpty()) {
                        d.append(", RPC ").append(String.join(", ", params.rpcServers()));
                    }
                    event.devices = d.toString();
                }
                event.commit();
            }
        }
    }

    private static Model loadFiles(Path path, java.util.List<Path> parts, ModelParams params) {
        if (params == null) {
            throw new IllegalArgumentException("params is null; use ModelParams.defaults()");
        }
        GgufFiles.checkReadable(path);
        Llama.init();
        // Validate the header, metadata and tensor directory before llama.cpp sees the file.
        GgufFile gguf = GgufFiles.read(path);
        // a split model: every part present and of this split, before llama.cpp opens them
        if (parts == null) {
            parts = GgufFiles.splitParts(path);
        } else {
            GgufFiles.checkSplit(parts);
        }
        if (gguf.architecture() == null) {
            throw new LlamaException("GGUF file has no general.architecture key, so it is not a model: "
                    + path.toAbsolutePath());
        }
        GgufFiles.checkLoadable(gguf, params.vocabOnly());
        boolean wantsGpu = params.gpuLayers() > 0 || (params.gpuLayers() == ModelParams.ALL_LAYERS && Llama.isGpuBuild());
        if (wantsGpu && !params.vocabOnly() && !Llama.hasGpu()) {
            System.getLogger(Model.class.getName()).log(System.Logger.Level.WARNING,
                    "no GPU is available (no GPU backend, driver or device): running " + path.getFileName() + " on the CPU");
        }
        int gpus = (int) Math.min(Integer.MAX_VALUE, llama_max_devices());
        if (params.tensorSplit() != null && params.tensorSplit().length > gpus) {
            throw new IllegalArgumentException("tensorSplit has " + params.tensorSplit().length + " shares; at most "
                    + gpus + " devices are supported");
        }
        RpcServers.add(params.rpcServers(), params.rpcTimeout());
        RpcGuard rpc = RpcGuard.of(params);
        // Always an explicit device list: RPC servers registered for another model must not take
        // this one's layers (they stay registered for the process; a dead one aborts it).
        org.bytedeco.javacpp.PointerPointer<org.llamajava.bindings.ggml_backend_device> devices =
                RpcServers.modelDevices(params.rpcServers(), params.devices(), params.deviceFallback());
        boolean offloads = params.gpuLayers() != 0 && !params.vocabOnly() && devices.get(0) != null && !devices.get(0).isNull();
        java.util.List<String> offloadDevices = new java.util.ArrayList<>();
        for (long i = 0; offloads && i < devices.capacity() && devices.get(i) != null && !devices.get(i).isNull(); i++) {
            offloadDevices.add(NativeStrings.utf8(
                    ggml_backend_dev_name(devices.get(org.llamajava.bindings.ggml_backend_device.class, i))));
        }
        offloadDevices = java.util.List.copyOf(offloadDevices);
        List<ResolvedOverride> overrides = params.vocabOnly() ? List.of() : ResolvedOverride.resolve(params, gguf);
        LoadProgressListener listener = params.progress();
        if (rpc != null) { // each tensor uploaded to a server is progress: the RPC timeout counts from the last
            LoadProgressListener user = listener;
            listener = f -> {
                rpc.touch();
                return user == null || user.onProgress(f);
            };
        }
        LoadProgress progress = listener == null ? null : LoadProgress.start(listener);
        llama_model model;
        org.bytedeco.javacpp.FloatPointer split = null;
        llama_model_tensor_buft_override nativeOverrides = null;
        List<BytePointer> patterns = new java.util.ArrayList<>();
        try (llama_model_params p = llama_model_default_params()) {
            if (!overrides.isEmpty()) {
                nativeOverrides = new llama_model_tensor_buft_override(overrides.size() + 1);
                for (int i = 0; i < overrides.size(); i++) {
                    BytePointer pattern = new BytePointer(overrides.get(i).pattern(), StandardCharsets.UTF_8);
                    patterns.add(pattern);
                    nativeOverrides.getPointer(i).pattern(pattern).buft(overrides.get(i).buft());
                }
                nativeOverrides.getPointer(overrides.size()).pattern(null).buft(null);
                p.tensor_buft_overrides(nativeOverrides);
            }
            RpcServers.setDevices(p, devices);
            p.n_gpu_layers(params.gpuLayers());
            p.split_mode(params.splitMode().value).main_gpu(params.mainGpu());
            if (params.tensorSplit() != null) {
                split = new org.bytedeco.javacpp.FloatPointer(gpus);
                for (int i = 0; i < gpus; i++) {
                    split.put(i, i < params.tensorSplit().length ? params.tensorSplit()[i] : 0f);
                }
                p.tensor_split(split);
            }
            p.load_mode(params.useMmap()
                    ? (params.useMlock() ? LLAMA_LOAD_MODE_MMAP_MLOCK : LLAMA_LOAD_MODE_MMAP)
                    : (params.useMlock() ? LLAMA_LOAD_MODE_MLOCK : LLAMA_LOAD_MODE_NONE));
            p.vocab_only(params.vocabOnly());
            p.check_tensors(params.checkTensors());
            p.use_extra_bufts(params.extraBufferTypes());
            if (progress != null) {
                progress.install(p);
            }
            NativeErrors.clear();
            if (parts.size() == 1) {
                try (BytePointer cpath = new BytePointer(path.toAbsolutePath().toString(), StandardCharsets.UTF_8)) {
                    model = rpc == null ? llama_model_load_from_file(cpath, p)
                            : rpc.call("loading " + path, () -> llama_model_load_from_file(cpath, p));
                }
            } else {
                java.util.List<BytePointer> held = new java.util.ArrayList<>();
                try (org.bytedeco.javacpp.PointerPointer<BytePointer> paths = new org.bytedeco.javacpp.PointerPointer<>(parts.size())) {
                    for (int i = 0; i < parts.size(); i++) {
                        BytePointer b = new BytePointer(parts.get(i).toAbsolutePath().toString(), StandardCharsets.UTF_8);
                        held.add(b);
                        paths.put(i, b);
                    }
                    int nParts = parts.size();
                    model = rpc == null ? llama_model_load_from_splits(paths, nParts, p)
                            : rpc.call("loading " + path, () -> llama_model_load_from_splits(paths, nParts, p));
                } finally {
                    held.forEach(BytePointer::close);
                }
            }
        } finally {
            if (progress != null) {
                progress.finish();
            }
            if (split != null) {
                split.close();
            }
            if (nativeOverrides != null) {
                nativeOverrides.close();
            }
            patterns.forEach(BytePointer::close);
            devices.close();
        }
        String error = NativeErrors.suffix();
        if (progress != null) {
            progress.rethrow();
        }
        if (model == null || model.isNull()) {
            if (progress != null && progress.cancelled()) {
                throw new LoadCancelledException("loading " + path + " was cancelled by its progress listener");
            }
            if (offloads && params.rpcServers().isEmpty()) {
                String message = "failed to load model " + path.toAbsolutePath() + " onto "
                        + (params.devices().isEmpty() ? "the GPU" : String.join(", ", params.devices()))
                        + " with " + (params.gpuLayers() < 0 ? "all" : String.valueOf(params.gpuLayers()))
                        + " layers offloaded (out of device memory?)" + error;
                if (!params.deviceFallback()) {
                    throw new DeviceUnavailableException(message
                            + "; fewer layers (gpuLayers), another device, or ModelParams.deviceFallback(true) for the CPU");
                }
                System.getLogger(Model.class.getName()).log(System.Logger.Level.WARNING, message + ": loading it on the CPU");
                return loadFiles(path, parts, new ModelParams(params.useMmap(), params.useMlock(), 0, params.vocabOnly(),
                        params.checkTensors(), params.progress(), params.splitMode(), params.mainGpu(), params.tensorSplit(),
                        params.tensorOverrides(), params.cpuMoe(), params.nCpuMoe(), params.rpcServers(), params.rpcTimeout(),
                        params.extraBufferTypes(), List.of("none"), false));
            }
            throw new LlamaException("failed to load model " + path.toAbsolutePath() + error);
        }
        return new Model(new State(model, rpc), path, parts, params.vocabOnly(), offloadDevices, params.gpuLayers(),
                params.deviceFallback());
    }

    /**
     * The devices this model's offloaded layers were given to, by ggml's names ({@code Vulkan0},
     * {@code CUDA0}, {@code RPC[host:port]}), in llama.cpp's order; empty when it runs on the CPU alone
     * (no GPU device, {@code gpuLayers(0)}, a vocabulary-only load, or a fallback to the CPU). Which
     * layers went where is llama.cpp's choice, in its load log.
     *
     * @return the device names, unmodifiable
     */
    public java.util.List<String> devices() {
        return devices;
    }

    /** {@link ModelParams#gpuLayers()} as loaded (negative: every layer). */
    int gpuLayersRequested() {
        return gpuLayers;
    }

    /** {@link ModelParams#deviceFallback()} as loaded. */
    boolean deviceFallback() {
        return deviceFallback;
    }

    /** The file this model was loaded from. */
    public Path path() {
        return path;
    }

    /** The files the model was loaded from: {@link #path()} alone, or every part of a split model in order. */
    public java.util.List<Path> parts() {
        return parts;
    }

    /** Whether only the vocabulary was loaded. */
    public boolean isVocabOnly() {
        return vocabOnly;
    }

    /** The model's vocabulary (tokenizer). */
    public Vocabulary vocabulary() {
        handle();
        return vocabulary;
    }

    /** The architecture, e.g. {@code llama}, from {@code general.architecture}. */
    public String architecture() {
        return metadata("general.architecture");
    }

    /** llama.cpp's one-line description, e.g. {@code llama ?B all F32}. */
    public String description() {
        return Fence.get(this, handle(), m -> NativeStrings.read((buf, size) -> llama_model_desc(m, buf, size)));
    }

    /** The number of parameters (weights). */
    public long parameterCount() {
        return Fence.getLong(this, handle(), llama::llama_model_n_params);
    }

    /** The total size of all tensors in bytes. */
    public long sizeBytes() {
        return Fence.getLong(this, handle(), llama::llama_model_size);
    }

    /** The context length the model was trained with. */
    public int trainingContextLength() {
        return Fence.getInt(this, handle(), llama::llama_model_n_ctx_train);
    }

    /** The embedding size. */
    public int embeddingSize() {
        return Fence.getInt(this, handle(), llama::llama_model_n_embd);
    }

    /** The number of layers. */
    public int layerCount() {
        return Fence.getInt(this, handle(), llama::llama_model_n_layer);
    }

    /** The model's default chat template (Jinja source), or null if it has none. */
    public String chatTemplate() {
        return Fence.get(this, handle(), m -> NativeStrings.utf8(llama_model_chat_template(m, (BytePointer) null)));
    }

    /**
     * One of the model's named templates ({@code tokenizer.chat_template.NAME}, e.g. {@code rerank}
     * or {@code tool_use}), or null if it has none by that name.
     */
    public String chatTemplate(String name) {
        if (name == null) {
            throw new IllegalArgumentException("name is null; chatTemplate() gives the default template");
        }
        try (BytePointer n = new BytePointer(name, java.nio.charset.StandardCharsets.UTF_8)) {
            return Fence.get(this, handle(), m -> NativeStrings.utf8(llama_model_chat_template(m, n)));
        }
    }

    /** One metadata value as a string, or null if the key is absent. */
    public String metadata(String key) {
        llama_model m = handle();
        try {
            return NativeStrings.value(key, (k, buf, size) -> llama_model_meta_val_str(m, k, buf, size));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Every metadata key/value pair, values as strings (long arrays abbreviated by llama.cpp). */
    public Map<String, String> metadata() {
        llama_model m = handle();
        try {
            return NativeStrings.pairs(llama_model_meta_count(m), (i, buf, size) -> llama_model_meta_key_by_index(m, i, buf, size),
                    (i, buf, size) -> llama_model_meta_val_str_by_index(m, i, buf, size));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Creates an inference context over this model. */
    public Context createContext(ContextParams params) {
        if (params == null) {
            throw new IllegalArgumentException("params is null; use ContextParams.defaults()");
        }
        return new Context(this, params);
    }

    /** Creates an inference context with {@link ContextParams#defaults()}. */
    public Context createContext() {
        return createContext(ContextParams.defaults());
    }

    /**
     * Identifies the model in state files ({@link Sequence#save}), so that a state saved from one
     * model never loads into another: architecture, description, and parameter, byte, vocabulary,
     * embedding and layer counts.
     */
    public String fingerprint() {
        return architecture() + "|" + description() + "|params=" + parameterCount() + "|bytes=" + sizeBytes()
                + "|vocab=" + vocabulary.size() + "|embd=" + embeddingSize() + "|layers=" + layerCount();
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return state.isFreed();
    }

    /**
     * Closes every open context on this model, then frees the model; idempotent.
     *
     * @throws IllegalStateException if another thread is using one of its contexts right now
     *     (nothing is closed then)
     */
    @Override
    public void close() {
        if (state.isFreed()) {
            return;
        }
        java.util.List<NativeState> claimed = new java.util.ArrayList<>();
        for (NativeState d : state.dependents) {
            if (!d.tryClaim()) {
                Thread t = d.user();
                claimed.forEach(NativeState::release);
                throw new IllegalStateException("cannot close Model " + path + ": one of its contexts is in use by "
                        + (t == Thread.currentThread() ? "this thread (inside a call, e.g. a callback)"
                        : "thread '" + (t == null ? "?" : t.getName()) + "'") + "; stop that work first");
            }
            claimed.add(d);
        }
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "Model[" + path + (isClosed() ? ", closed]" : "]");
    }

    /** The guard of a model on RPC servers ({@link ModelParams#rpcServers()}), else null. */
    RpcGuard rpcGuard() {
        return state.rpc;
    }

    /**
     * Not API: how llama-java's own packages ({@code chat}, {@code embed}, {@code multimodal})
     * reach this model's native state. Applications must not use it; its type is in
     * {@code org.llamajava.internal}, which no code outside llama-java's core may use.
     */
    public ModelPort port() {
        return port;
    }

    private final ModelPort port = new ModelPort() {
        @Override
        public llama_model handle() {
            return Model.this.handle();
        }

        @Override
        public Runnable addDependent(NativeState dependent) {
            return Model.this.addDependent(dependent);
        }
    };

    /** The native model, or IllegalStateException once closed. */
    llama_model handle() {
        llama_model m = state.model;
        if (state.isFreed()) {
            throw new IllegalStateException("Model " + path + " is closed");
        }
        return m;
    }

    /**
     * Registers a dependent native object that must be freed before the model; returns what
     * unregisters it (to run when it is freed, however that happens). The returned action holds
     * no reference to this Model, so the Cleaner can still run.
     */
    Runnable addDependent(NativeState dependent) {
        handle();
        Set<NativeState> deps = state.dependents;
        deps.add(dependent);
        return () -> deps.remove(dependent);
    }

    private static final class State extends NativeState {
        final llama_model model;
        final Set<NativeState> dependents = ConcurrentHashMap.newKeySet();

        /** The RPC guard of a model on RPC servers, else null. */
        final RpcGuard rpc;

        State(llama_model model, RpcGuard rpc) {
            this.model = model;
            this.rpc = rpc;
        }

        @Override
        protected void free() {
            for (NativeState d : dependents) {
                d.run();
            }
            dependents.clear();
            if (rpc == null) {
                llama_model_free(model);
            } else {
                rpc.free("the model", () -> llama_model_free(model));
            }
        }
    }
}
