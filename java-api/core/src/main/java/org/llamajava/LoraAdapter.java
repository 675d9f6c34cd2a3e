package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.llamajava.bindings.llama_adapter_lora;
import org.llamajava.gguf.GgufFile;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.NativeState;
import org.llamajava.internal.NativeStrings;

/**
 * A LoRA adapter (GGUF, as llama.cpp's {@code convert_lora_to_gguf.py} writes it) loaded for one
 * {@link Model}: apply it to any number of that model's contexts with
 * {@link Context#setLoraAdapter(LoraAdapter, float)}, at a scale each, change or remove it between
 * generations, and the model's weights stay as they are.
 *
 * <p>The adapter is checked against the model in Java before llama.cpp reads it: it must be a
 * LoRA adapter ({@code general.type = adapter}, {@code adapter.type = lora}) of the model's
 * architecture, and every {@code NAME.lora_a}/{@code NAME.lora_b} pair must belong to a tensor
 * {@code NAME} of the model with matching shapes.
 *
 * <p>Closing frees it; it cannot be closed while a context still applies it (remove it there
 * first, or close the context). Closing its model closes it too; a Cleaner frees it if it is
 * dropped without {@link #close()}.
 *
 * <pre>{@code
 * try (LoraAdapter lora = LoraAdapter.load(model, Path.of("adapter.gguf"))) {
 *     ctx.setLoraAdapter(lora, 0.8f);
 *     Completion c = ctx.generate(prompt, sampler, 64, null);
 *     ctx.removeLoraAdapter(lora);
 * }
 * }</pre>
 */
public final class LoraAdapter implements AutoCloseable {
    private final Model model;
    private final Path path;
    private final State state;
    private final Cleaner.Cleanable cleanable;
    /** The contexts that apply this adapter now. */
    private final Set<Context> appliedTo = Collections.synchronizedSet(Collections.newSetFromMap(new java.util.WeakHashMap<>()));

    private LoraAdapter(Model model, Path path, State state) {
        this.model = model;
        this.path = path;
        this.state = state;
        this.cleanable = state.register(this);
        state.detach = model.addDependent(state);
    }

    /**
     * Loads a LoRA adapter for {@code model}.
     *
     * @throws LlamaException if the file is missing or not GGUF, is not a LoRA adapter, or was made
     *     for another architecture or another model (a tensor it adapts is missing or of another shape)
     * @throws IllegalStateException if the model is closed or was loaded vocabulary-only
     */
    public static LoraAdapter load(Model model, Path path) {
        if (model == null) {
            throw new IllegalArgumentException("model is null");
        }
        model.handle();
        if (model.isVocabOnly()) {
            throw new IllegalStateException("Model " + model.path() + " was loaded vocabOnly; it has no weights to adapt");
        }
        GgufFiles.checkReadable(path);
        GgufFile adapter = GgufFiles.read(path);
        check(adapter, model);
        llama_adapter_lora a;
        NativeErrors.clear();
        try (BytePointer p = new BytePointer(path.toAbsolutePath().toString(), StandardCharsets.UTF_8)) {
            org.llamajava.bindings.llama_model m = model.handle();
            RpcGuard rpc = model.rpcGuard();
            a = rpc == null ? llama_adapter_lora_init(m, p) : rpc.call("loading LoRA adapter " + path, () -> llama_adapter_lora_init(m, p));
        } finally {
            Reference.reachabilityFence(model);
        }
        if (a == null || a.isNull()) {
            throw new LlamaException("failed to load LoRA adapter " + path.toAbsolutePath() + NativeErrors.suffix());
        }
        return new LoraAdapter(model, path, new State(a, model.rpcGuard()));
    }

    /** What llama.cpp's loader throws or asserts on, checked first with the GGUF directories. */
    static void check(GgufFile adapter, Model model) {
        String file = adapter.path().toAbsolutePath().toString();
        if (!"adapter".equals(adapter.getString("general.type"))) {
            throw new LlamaException(file + " is not an adapter (general.type is '" + adapter.getString("general.type")
                    + "', not 'adapter')");
        }
        if (!"lora".equals(adapter.getString("adapter.type"))) {
            throw new LlamaException(file + " is not a LoRA adapter (adapter.type is '" + adapter.getString("adapter.type")
                    + "', not 'lora'); control vectors load with ControlVector.load");
        }
        String arch = model.architecture();
        if (!java.util.Objects.equals(arch, adapter.architecture())) {
            throw new LlamaException("LoRA adapter " + file + " is for architecture '" + adapter.architecture()
                    + "', but the model " + model.path().getFileName() + " is '" + arch + "'");
        }
        if (!(adapter.metadata().get("adapter.lora.alpha") instanceof Float)) {
            throw new LlamaException("LoRA adapter " + file + " has no float adapter.lora.alpha");
        }
        Map<String, long[]> base = new HashMap<>();
        for (Path part : model.parts()) {
            for (GgufFile.TensorInfo t : GgufFiles.read(part).tensors()) {
                base.put(t.name(), t.shape());
            }
        }
        Map<String, long[]> as = new HashMap<>();
        Map<String, long[]> bs = new HashMap<>();
        for (GgufFile.TensorInfo t : adapter.tensors()) {
            String n = t.name();
            if (n.endsWith(".lora_a")) {
                as.put(n.substring(0, n.length() - 7), t.shape());
            } else if (n.endsWith(".lora_b")) {
                bs.put(n.substring(0, n.length() - 7), t.shape());
            } else {
                throw new LlamaException("LoRA adapter " + file + ": tensor '" + n + "' is neither NAME.lora_a nor NAME.lora_b");
            }
        }
        if (as.isEmpty()) {
            throw new LlamaException("LoRA adapter " + file + " has no tensors");
        }
        for (String n : as.keySet()) {
            if (!bs.containsKey(n)) {
                throw new LlamaException("LoRA adapter " + file + ": '" + n + ".lora_b' is missing for '" + n + ".lora_a'");
            }
        }
        for (String n : bs.keySet()) {
            if (!as.containsKey(n)) {
                throw new LlamaException("LoRA adapter " + file + ": '" + n + ".lora_a' is missing for '" + n + ".lora_b'");
            }
            long[] w = base.get(n);
            if (w == null) {
                throw new LlamaException("LoRA adapter " + file + " adapts tensor '" + n + "', which the model "
                        + model.path().getFileName() + " does not have: it was made for another model");
            }
            long[] a = as.get(n);
            long[] b = bs.get(n);
            long wIn = w[0];
            long wOut = w.length > 1 ? w[1] : 1;
            long aIn = a[0];
            long aR = a.length > 1 ? a[1] : 1;
            long bR = b[0];
            long bOut = b.length > 1 ? b[1] : 1;
            boolean ok = n.startsWith("token_embd.")
                    ? wIn == bOut && wOut == aR
                    : wIn == aIn && wOut == bOut && aR == bR;
            if (!ok) {
                throw new LlamaException("LoRA adapter " + file + ": the shapes of '" + n + "' (lora_a " + shape(a)
                        + ", lora_b " + shape(b) + ") do not fit the model's " + shape(w) + ": it was made for another model");
            }
        }
    }

    private static String shape(long[] s) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(s[i]);
        }
        return sb.append(']').toString();
    }

    /** The model this adapter was loaded for. */
    public Model model() {
        return model;
    }

    /** The file it was loaded from. */
    public Path path() {
        return path;
    }

    /** One metadata value of the adapter's GGUF as a string, or null if absent. */
    public String metadata(String key) {
        llama_adapter_lora a = handle();
        try {
            return NativeStrings.value(key, (k, buf, size) -> llama_adapter_meta_val_str(a, k, buf, size));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Every scalar metadata pair of the adapter's GGUF, values as strings (arrays are not listed). */
    public Map<String, String> metadata() {
        llama_adapter_lora a = handle();
        try {
            return NativeStrings.pairs(llama_adapter_meta_count(a), (i, buf, size) -> llama_adapter_meta_key_by_index(a, i, buf, size),
                    (i, buf, size) -> llama_adapter_meta_val_str_by_index(a, i, buf, size));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** {@code adapter.lora.alpha}: the adapter's delta is scaled by alpha / rank (times the context's scale). */
    public float alpha() {
        return Float.parseFloat(metadata("adapter.lora.alpha"));
    }

    /**
     * The invocation tokens of an activated LoRA (aLoRA: it applies only after these tokens), or an
     * empty array for an ordinary adapter.
     */
    public int[] invocationTokens() {
        llama_adapter_lora a = handle();
        int n = (int) llama_adapter_get_alora_n_invocation_tokens(a);
        int[] out = new int[n];
        if (n > 0) {
            IntPointer p = llama_adapter_get_alora_invocation_tokens(a);
            p.capacity(n).get(out);
        }
        Reference.reachabilityFence(this);
        return out;
    }

    /** Whether {@link #close()} has been called (or the model was closed). */
    public boolean isClosed() {
        return state.isFreed();
    }

    /**
     * Frees the adapter; idempotent.
     *
     * @throws IllegalStateException if an open context still applies it
     */
    @Override
    public void close() {
        if (state.isFreed()) {
            return;
        }
        List<Context> contexts;
        synchronized (appliedTo) {
            contexts = List.copyOf(appliedTo);
        }
        for (Context c : contexts) {
            if (!c.isClosed()) {
                throw new IllegalStateException("LoraAdapter " + path.getFileName() + " is still applied to a context:"
                        + " remove it there first (Context.removeLoraAdapter) or close that context");
            }
        }
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "LoraAdapter[" + path + (isClosed() ? ", closed]" : "]");
    }

    llama_adapter_lora handle() {
        if (state.isFreed()) {
            throw new IllegalStateException("LoraAdapter " + path + " is closed" + (model.isClosed() ? " (its Model was closed)" : ""));
        }
        return state.adapter;
    }

    void appliedTo(Context c, boolean applied) {
        if (applied) {
            appliedTo.add(c);
        } else {
            appliedTo.remove(c);
        }
    }


    private static final class State extends NativeState {
        final llama_adapter_lora adapter;
        Runnable detach;

        final RpcGuard rpc;

        State(llama_adapter_lora adapter, RpcGuard rpc) {
            this.adapter = adapter;
            this.rpc = rpc;
        }

        @Override
        protected void free() {
            if (rpc == null) {
                llama_adapter_lora_free(adapter);
            } else {
                rpc.free("a LoRA adapter", () -> llama_adapter_lora_free(adapter));
            }
            if (detach != null) {
                detach.run();
            }
        }
    }
}
