package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.BytePointer;
import org.llamajava.bindings.llama_model;
import org.llamajava.bindings.llama_model_params;

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

    private Model(State state, Path path, boolean vocabOnly) {
        this.state = state;
        this.path = path;
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
        if (params == null) {
            throw new IllegalArgumentException("params is null; use ModelParams.defaults()");
        }
        GgufFile.checkReadableGguf(path);
        Llama.init();
        // Validate the header, metadata and tensor directory before llama.cpp sees the file.
        GgufFile gguf = GgufFile.read(path);
        if (gguf.architecture() == null) {
            throw new LlamaException("GGUF file has no general.architecture key, so it is not a model: "
                    + path.toAbsolutePath());
        }
        checkAssertedMetadata(gguf, params.vocabOnly());
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
        LoadProgress progress = params.progress() == null ? null : LoadProgress.start(params.progress());
        llama_model model;
        org.bytedeco.javacpp.FloatPointer split = null;
        try (llama_model_params p = llama_model_default_params()) {
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
            if (progress != null) {
                progress.install(p);
            }
            Llama.clearLastError();
            try (BytePointer cpath = new BytePointer(path.toAbsolutePath().toString(), StandardCharsets.UTF_8)) {
                model = llama_model_load_from_file(cpath, p);
            }
        } finally {
            if (progress != null) {
                progress.finish();
            }
            if (split != null) {
                split.close();
            }
        }
        String error = Llama.lastErrorSuffix();
        if (progress != null) {
            progress.rethrow();
        }
        if (model == null || model.isNull()) {
            if (progress != null && progress.cancelled()) {
                throw new LoadCancelledException("loading " + path + " was cancelled by its progress listener");
            }
            throw new LlamaException("failed to load model " + path.toAbsolutePath() + error);
        }
        return new Model(new State(model), path, params.vocabOnly());
    }

    /** llama.cpp's LLAMA_MAX_LAYERS and LLAMA_MAX_EXPERTS. */
    private static final long MAX_LAYERS = 512;
    private static final long MAX_EXPERTS = 1024;

    /**
     * Metadata that llama.cpp checks with GGML_ASSERT while loading (which aborts the whole
     * process) instead of with an error: rejected here first. Values of an unexpected type are
     * left to llama.cpp, which rejects those with an error.
     */
    static void checkAssertedMetadata(GgufFile gguf, boolean vocabOnly) {
        String file = gguf.path().toAbsolutePath().toString();
        Map<String, Object> meta = gguf.metadata();
        // the vocabulary (also loaded vocab-only): llama_vocab::impl::load
        if (meta.get("tokenizer.ggml.tokens") instanceof java.util.List<?> tokens) {
            Map<Object, Integer> seen = new java.util.HashMap<>();
            for (int i = 0; i < tokens.size(); i++) {
                Object t = tokens.get(i);
                Integer before = seen.put("".equals(t) ? "[EMPTY_" + i + "]" : t, i);
                if (before != null) {
                    throw new LlamaException("corrupt vocabulary in " + file + ": tokens " + before + " and " + i
                            + " are both '" + t + "'");
                }
            }
        }
        if ("bert".equals(gguf.getString("tokenizer.ggml.model"))
                && meta.get("tokenizer.ggml.token_type") instanceof java.util.List<?> types
                && types.contains(VocabularySpec.TYPE_BYTE)) {
            throw new LlamaException("corrupt vocabulary in " + file + ": a WordPiece (bert) vocabulary has byte tokens");
        }
        String arch = gguf.architecture();
        if (vocabOnly || "clip".equals(arch)) {
            return;
        }
        // normalization epsilons: ggml's norm kernels GGML_ASSERT(eps >= 0) at the first decode (found by fuzzing)
        for (Map.Entry<String, Object> e : meta.entrySet()) {
            if (e.getKey().startsWith(arch + ".") && e.getKey().endsWith("epsilon") && e.getValue() instanceof Float eps
                    && !(eps >= 0f)) {
                throw new LlamaException(e.getKey() + " is " + eps + " in " + file
                        + "; a normalization epsilon must be a number >= 0");
            }
        }
        // the hyperparameters: llama_model_base::load_hparams
        Long layers = unsigned(meta, arch + ".block_count");
        if (layers == null) {
            return; // missing or of another type: llama.cpp fails with an error
        }
        if (layers < 1 || layers > MAX_LAYERS) {
            throw new LlamaException(arch + ".block_count is " + layers + " in " + file + "; llama.cpp supports 1 to "
                    + MAX_LAYERS + " layers");
        }
        long nextn = orZero(unsigned(meta, arch + ".nextn_predict_layers"));
        if (nextn > layers) {
            throw new LlamaException(arch + ".nextn_predict_layers (" + nextn + ") exceeds " + arch + ".block_count ("
                    + layers + ") in " + file);
        }
        long experts = orZero(unsigned(meta, arch + ".expert_count"));
        long used = 0;
        Object u = meta.get(arch + ".expert_used_count");
        if (u instanceof java.util.List<?> perLayer) {
            if (perLayer.size() == layers) { // another length: llama.cpp fails with an error
                for (Object o : perLayer) {
                    used = Math.max(used, o instanceof Number n ? Integer.toUnsignedLong(n.intValue()) : 0);
                }
            }
        } else {
            used = orZero(unsigned(meta, arch + ".expert_used_count"));
        }
        if ((arch.equals("hunyuan_vl") || arch.equals("hunyuan-dense")) && experts <= 1) {
            experts = 0;
            used = 0;
        }
        long groups = orZero(unsigned(meta, arch + ".expert_group_count"));
        long groupsUsed = orZero(unsigned(meta, arch + ".expert_group_used_count"));
        boolean ok = experts <= MAX_EXPERTS && used <= experts;
        if (experts > 0) {
            ok &= used > 0 && groups < experts
                    && (groups <= 1 || (experts % groups == 0 && groupsUsed > 0 && groupsUsed < groups));
        } else {
            ok &= used == 0 && groups == 0;
        }
        if (!ok) {
            throw new LlamaException("inconsistent mixture-of-experts metadata in " + file + ": expert_count " + experts
                    + ", expert_used_count " + used + ", expert_group_count " + groups + ", expert_group_used_count "
                    + groupsUsed);
        }
        Object scaling = meta.get(arch + ".rope.scaling.type");
        if (scaling instanceof String s && !java.util.List.of("none", "linear", "yarn", "longrope").contains(s)) {
            throw new LlamaException("unknown " + arch + ".rope.scaling.type '" + s + "' in " + file);
        }
    }

    /** A UINT32 metadata value (GgufFile reads those as Long), or null if absent or of another type. */
    private static Long unsigned(Map<String, Object> meta, String key) {
        return meta.get(key) instanceof Long l ? l : null;
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }

    /** The file this model was loaded from. */
    public Path path() {
        return path;
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
        try {
            return NativeStrings.read((buf, size) -> llama_model_desc(handle(), buf, size));
        } finally {
            Reference.reachabilityFence(this); // not freed by the Cleaner during the native call
        }
    }

    /** The number of parameters (weights). */
    public long parameterCount() {
        try {
            return llama_model_n_params(handle());
        } finally {
            Reference.reachabilityFence(this); // not freed by the Cleaner during the native call
        }
    }

    /** The total size of all tensors in bytes. */
    public long sizeBytes() {
        try {
            return llama_model_size(handle());
        } finally {
            Reference.reachabilityFence(this); // not freed by the Cleaner during the native call
        }
    }

    /** The context length the model was trained with. */
    public int trainingContextLength() {
        try {
            return llama_model_n_ctx_train(handle());
        } finally {
            Reference.reachabilityFence(this); // not freed by the Cleaner during the native call
        }
    }

    /** The embedding size. */
    public int embeddingSize() {
        try {
            return llama_model_n_embd(handle());
        } finally {
            Reference.reachabilityFence(this); // not freed by the Cleaner during the native call
        }
    }

    /** The number of layers. */
    public int layerCount() {
        try {
            return llama_model_n_layer(handle());
        } finally {
            Reference.reachabilityFence(this); // not freed by the Cleaner during the native call
        }
    }

    /** The model's default chat template (Jinja source), or null if it has none. */
    public String chatTemplate() {
        try {
            BytePointer t = llama_model_chat_template(handle(), (BytePointer) null);
            return GgufFile.utf8(t);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** One metadata value as a string, or null if the key is absent. */
    public String metadata(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key is null");
        }
        llama_model m = handle();
        try (BytePointer k = new BytePointer(key, StandardCharsets.UTF_8)) {
            if (llama_model_meta_val_str(m, k, (BytePointer) null, 0) < 0) {
                return null;
            }
            return NativeStrings.read((buf, size) -> llama_model_meta_val_str(m, k, buf, size));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Every metadata key/value pair, values as strings (long arrays abbreviated by llama.cpp). */
    public Map<String, String> metadata() {
        llama_model m = handle();
        int n = llama_model_meta_count(m);
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int idx = i;
            String key = NativeStrings.read((buf, size) -> llama_model_meta_key_by_index(m, idx, buf, size));
            String val = NativeStrings.read((buf, size) -> llama_model_meta_val_str_by_index(m, idx, buf, size));
            out.put(key, val);
        }
        Reference.reachabilityFence(this);
        return Collections.unmodifiableMap(out);
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

    /** Identifies the model for state files: a state saved from one model never loads into another. */
    String fingerprint() {
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

        State(llama_model model) {
            this.model = model;
        }

        @Override
        protected void free() {
            for (NativeState d : dependents) {
                d.run();
            }
            dependents.clear();
            llama_model_free(model);
        }
    }
}
