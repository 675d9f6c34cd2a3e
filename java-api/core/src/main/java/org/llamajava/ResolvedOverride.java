package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.llamajava.bindings.ggml_backend_buffer_type;
import org.llamajava.bindings.ggml_backend_device;
import org.llamajava.gguf.GgufFile;
import org.llamajava.internal.NativeStrings;

/**
 * A {@link TensorOverride} with its buffer type resolved over ggml's devices, as llama.cpp's
 * {@code -ot} does (each device's default buffer type, by name), checked against the file's
 * tensor names before llama.cpp sees it.
 */
record ResolvedOverride(String pattern, ggml_backend_buffer_type buft) {

    /** The overrides of {@code params} (its own, then {@code cpuMoe}, then {@code nCpuMoe}), resolved. */
    static List<ResolvedOverride> resolve(ModelParams params, GgufFile gguf) {
        List<String> names = gguf.tensors().stream().map(GgufFile.TensorInfo::name).toList();
        List<TensorOverride> all = new ArrayList<>();
        for (TensorOverride o : params.tensorOverrides()) {
            if (names.stream().noneMatch(o::matches)) {
                throw new IllegalArgumentException("the tensor override pattern '" + o.pattern() + "' matches no tensor"
                        + " of " + gguf.path().getFileName() + " (tensor names look like '" + (names.isEmpty() ? "?"
                        : names.get(names.size() - 1)) + "'); fix the pattern or drop the override");
            }
            all.add(o);
        }
        TensorOverride experts = new TensorOverride(TensorOverride.EXPERTS_PATTERN, "CPU");
        boolean hasExperts = names.stream().anyMatch(experts::matches);
        if ((params.cpuMoe() || params.nCpuMoe() > 0) && !hasExperts) {
            throw new IllegalArgumentException(gguf.path().getFileName() + " has no mixture-of-experts expert tensors"
                    + " (ffn_*_exps): cpuMoe/nCpuMoe apply to MoE models only");
        }
        if (params.cpuMoe()) {
            all.add(experts);
        }
        if (params.nCpuMoe() > 0) {
            Object blocks = gguf.metadata().get(gguf.architecture() + ".block_count");
            int layers = blocks instanceof Number n ? n.intValue() : params.nCpuMoe();
            for (int i = 0; i < Math.min(params.nCpuMoe(), layers); i++) {
                all.add(TensorOverride.expertsOfLayer(i));
            }
        }
        if (all.isEmpty()) {
            return List.of();
        }
        if (all.size() > llama_max_tensor_buft_overrides()) {
            throw new IllegalArgumentException(all.size() + " tensor overrides; llama.cpp takes at most "
                    + llama_max_tensor_buft_overrides());
        }
        Map<String, ggml_backend_buffer_type> types = bufferTypes();
        List<ResolvedOverride> out = new ArrayList<>();
        for (TensorOverride o : all) {
            ggml_backend_buffer_type t = types.get(o.bufferType());
            if (t == null) {
                throw new IllegalArgumentException("unknown buffer type '" + o.bufferType() + "' in the tensor override '"
                        + o.pattern() + "'; available: " + String.join(", ", types.keySet()));
            }
            out.add(new ResolvedOverride(o.pattern(), t));
        }
        return out;
    }

    /** Every device's default buffer type by name, as common/arg.cpp lists them. */
    static Map<String, ggml_backend_buffer_type> bufferTypes() {
        Llama.init();
        Map<String, ggml_backend_buffer_type> out = new TreeMap<>();
        long n = ggml_backend_dev_count();
        for (long i = 0; i < n; i++) {
            ggml_backend_device dev = ggml_backend_dev_get(i);
            ggml_backend_buffer_type t = ggml_backend_dev_buffer_type(dev);
            if (t != null && !t.isNull()) {
                out.put(NativeStrings.utf8(ggml_backend_buft_name(t)), t);
            }
        }
        return out;
    }
}
