package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Reference;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.llama_adapter_lora;
import org.llamajava.bindings.llama_context;
import org.llamajava.internal.NativeErrors;

/**
 * What a {@link Context} applies on top of its model's weights: LoRA adapters with their scales,
 * and a control vector. The public methods change them and empty every sequence (their cache was
 * computed without them); the batching engine switches adapters keeping each slot's cache.
 */
final class ContextAdapters {
    private final Context context;
    private final Model model;
    private final Map<LoraAdapter, Float> loras = new LinkedHashMap<>();
    private ControlVector controlVector;

    ContextAdapters(Context context) {
        this.context = context;
        this.model = context.model();
    }

    void setLora(LoraAdapter adapter, float scale) {
        Map<LoraAdapter, Float> next = new LinkedHashMap<>(loras);
        next.put(check(adapter, scale), scale);
        apply(next, true);
    }

    void setLoras(Map<LoraAdapter, Float> adapters) {
        if (adapters == null) {
            throw new IllegalArgumentException("adapters is null; pass an empty map to remove them all");
        }
        Map<LoraAdapter, Float> next = new LinkedHashMap<>();
        adapters.forEach((a, s) -> {
            if (s == null) {
                throw new IllegalArgumentException("the scale of " + a + " is null");
            }
            next.put(check(a, s), s);
        });
        apply(next, true);
    }

    void removeLora(LoraAdapter adapter) {
        if (adapter == null) {
            throw new IllegalArgumentException("adapter is null");
        }
        if (!loras.containsKey(adapter)) {
            return;
        }
        Map<LoraAdapter, Float> next = new LinkedHashMap<>(loras);
        next.remove(adapter);
        apply(next, true);
    }

    void clearLoras() {
        if (!loras.isEmpty()) {
            apply(new LinkedHashMap<>(), true);
        }
    }

    Map<LoraAdapter, Float> loras() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(loras));
    }

    private LoraAdapter check(LoraAdapter adapter, Float scale) {
        if (adapter == null) {
            throw new IllegalArgumentException("adapter is null");
        }
        if (scale == null || !Float.isFinite(scale)) {
            throw new IllegalArgumentException("a LoRA scale must be a finite number, not " + scale);
        }
        adapter.handle();
        if (adapter.model() != model) {
            throw new IllegalArgumentException("LoraAdapter " + adapter.path().getFileName() + " was loaded for another"
                    + " Model (" + adapter.model().path().getFileName() + "); load it for this context's model");
        }
        return adapter;
    }

    /**
     * Marks {@code adapter} as in use by the context until it closes, so that it cannot be closed
     * (for the batching engine, whose requests name adapters that it applies step by step).
     */
    void hold(LoraAdapter adapter) {
        check(adapter, 1f);
        adapter.appliedTo(context, true);
        if (adapter.isClosed()) {
            throw new IllegalStateException("LoraAdapter " + adapter.path().getFileName() + " is closed");
        }
    }

    /**
     * Applies {@code next}; {@code clear}: empty every sequence (the public methods), or keep the
     * cache (the batching engine, which keeps each slot's cache under the adapters it was computed
     * with and holds every adapter it applies until it closes).
     */
    void apply(Map<LoraAdapter, Float> next, boolean clear) {
        context.enter();
        try {
            if (next.equals(loras)) {
                return;
            }
            int n = next.size();
            try (PointerPointer<llama_adapter_lora> ptrs = new PointerPointer<>(Math.max(1, n));
                 FloatPointer scales = new FloatPointer(Math.max(1, n))) {
                int i = 0;
                for (Map.Entry<LoraAdapter, Float> e : next.entrySet()) {
                    ptrs.put(i, e.getKey().handle());
                    scales.put(i, e.getValue());
                    i++;
                }
                int rc = n == 0 ? llama_set_adapters_lora(context.handle(), (PointerPointer<?>) null, 0, (FloatPointer) null)
                        : llama_set_adapters_lora(context.handle(), ptrs, n, scales);
                if (rc != 0) {
                    throw new LlamaException("llama_set_adapters_lora failed (" + rc + ")");
                }
            } finally {
                Reference.reachabilityFence(next);
            }
            for (LoraAdapter a : loras.keySet()) {
                if (clear && !next.containsKey(a)) {
                    a.appliedTo(context, false);
                }
            }
            for (LoraAdapter a : next.keySet()) {
                a.appliedTo(context, true);
            }
            loras.clear();
            loras.putAll(next);
            if (clear) {
                context.clearSequences();
            }
        } finally {
            context.exit();
        }
    }

    void setControlVector(ControlVector vector, int layerStart, int layerEnd) {
        if (vector == null) {
            throw new IllegalArgumentException("vector is null; clearControlVector() removes it");
        }
        if (vector.embeddingSize() != model.embeddingSize()) {
            throw new IllegalArgumentException("the control vector's embedding size is " + vector.embeddingSize()
                    + " but the model's is " + model.embeddingSize() + ": it was made for another model");
        }
        int layers = model.layerCount();
        if (layerStart < 1 || layerEnd > layers || layerStart > layerEnd) {
            throw new IllegalArgumentException("layer range " + layerStart + ".." + layerEnd + " must lie within 1.."
                    + layers + " with start <= end");
        }
        context.enter();
        // every layer's direction is written, zeros past the vector's own, so none of an earlier one stays
        float[] padded = java.util.Arrays.copyOf(vector.data(), Math.max(vector.data().length, vector.embeddingSize() * layers));
        try (FloatPointer data = new FloatPointer(padded)) {
            llama_context c = context.handle();
            RpcGuard rpc = model.rpcGuard();
            int rc = rpc == null ? llama_set_adapter_cvec(c, data, padded.length, vector.embeddingSize(), layerStart, layerEnd)
                    : rpc.callInt("applying a control vector",
                            () -> llama_set_adapter_cvec(c, data, padded.length, vector.embeddingSize(), layerStart, layerEnd));
            if (rc != 0) {
                throw new LlamaException("llama_set_adapter_cvec failed" + NativeErrors.suffix());
            }
            controlVector = vector;
            context.clearSequences();
        } finally {
            context.exit();
        }
    }

    void clearControlVector() {
        context.enter();
        try {
            if (controlVector == null) {
                return;
            }
            llama_context c = context.handle();
            int n = model.embeddingSize();
            RpcGuard rpc = model.rpcGuard();
            if (rpc == null) {
                llama_set_adapter_cvec(c, (FloatPointer) null, 0, n, -1, -1);
            } else {
                rpc.callInt("removing a control vector", () -> llama_set_adapter_cvec(c, (FloatPointer) null, 0, n, -1, -1));
            }
            controlVector = null;
            context.clearSequences();
        } finally {
            context.exit();
        }
    }

    ControlVector controlVector() {
        return controlVector;
    }
}
