package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.nio.charset.StandardCharsets;
import org.llamajava.internal.NativeLibrary;
import org.llamajava.internal.NativeLog;
import org.llamajava.internal.NativeStrings;

/**
 * Process-wide initialisation of llama.cpp: loads the native libraries from the classpath,
 * initialises the backends once and routes llama.cpp's log into {@link System.Logger} under the
 * logger name {@value #NATIVE_LOGGER}, never to stdout.
 *
 * <p>Every API entry point calls {@link #init()} (the {@code gguf} and {@code grammar} packages,
 * below this one, call the same bootstrap in {@code org.llamajava.internal.NativeLibrary});
 * applications need not call it themselves.
 *
 * <p>JavaCPP's own resident-memory limit ({@code org.bytedeco.javacpp.maxPhysicalBytes}, by default
 * four times the Java heap's maximum) is lifted unless the application sets it: model weights, KV
 * caches and a GPU runtime live in native memory that the limit would otherwise count, so that a
 * small heap made allocations throw {@link OutOfMemoryError}.
 */
public final class Llama {

    /** Name of the {@link System.Logger} that receives llama.cpp's own log lines. */
    public static final String NATIVE_LOGGER = NativeLog.LOGGER;

    /** JavaCPP's system property for its resident-memory limit (see {@link #init()}). */
    static final String MAX_PHYSICAL_BYTES = NativeLibrary.MAX_PHYSICAL_BYTES;

    static {
        // lift JavaCPP's resident-memory limit unless the application set one (see the class javadoc)
        NativeLibrary.liftJavaCppMemoryLimit();
    }

    private Llama() {}

    /**
     * Loads the natives and initialises llama.cpp's backends; idempotent and thread-safe.
     *
     * @throws LlamaException if the natives or ggml's backends cannot be loaded on this machine
     */
    public static void init() {
        try {
            NativeLibrary.init();
        } catch (IllegalStateException e) {
            throw e.getCause() == null ? new LlamaException(e.getMessage()) : new LlamaException(e.getMessage(), e.getCause());
        }
    }

    /** Every device ggml can use in this process: the CPU, and GPUs whose backend and driver loaded. */
    public static java.util.List<Device> devices() {
        init();
        java.util.List<Device> out = new java.util.ArrayList<>();
        long n = ggml_backend_dev_count();
        try (org.bytedeco.javacpp.SizeTPointer free = new org.bytedeco.javacpp.SizeTPointer(1);
             org.bytedeco.javacpp.SizeTPointer total = new org.bytedeco.javacpp.SizeTPointer(1)) {
            for (int i = 0; i < n; i++) {
                org.llamajava.bindings.ggml_backend_device d = ggml_backend_dev_get(i);
                if (!"RPC".equals(NativeStrings.utf8(ggml_backend_reg_name(ggml_backend_dev_backend_reg(d))))) {
                    ggml_backend_dev_memory(d, free, total);
                } else { // asks the server: never a dead one, and under the RPC guard
                    String endpoint = NativeStrings.utf8(ggml_backend_dev_description(d));
                    free.put(0L);
                    total.put(0L);
                    if (!RpcGuard.hasFailed(endpoint)) {
                        try {
                            if (RpcGuard.isInstalled()) {
                                RpcGuard.forEndpoint(endpoint, java.time.Duration.ofSeconds(30))
                                        .run("asking RPC server " + endpoint + " for its memory",
                                                () -> ggml_backend_dev_memory(d, free, total));
                            } else {
                                ggml_backend_dev_memory(d, free, total);
                            }
                        } catch (RpcServerException e) {
                            free.put(0L);
                            total.put(0L);
                        }
                    }
                }
                int t = ggml_backend_dev_type(d);
                Device.Type type = t == GGML_BACKEND_DEVICE_TYPE_CPU ? Device.Type.CPU
                        : t == GGML_BACKEND_DEVICE_TYPE_GPU ? Device.Type.GPU
                        : t == GGML_BACKEND_DEVICE_TYPE_IGPU ? Device.Type.INTEGRATED_GPU
                        : t == GGML_BACKEND_DEVICE_TYPE_ACCEL ? Device.Type.ACCELERATOR : Device.Type.OTHER;
                out.add(new Device(i, NativeStrings.utf8(ggml_backend_dev_name(d)), NativeStrings.utf8(ggml_backend_dev_description(d)),
                        type, free.get(), total.get(), NativeStrings.utf8(ggml_backend_reg_name(ggml_backend_dev_backend_reg(d)))));
            }
        }
        return java.util.List.copyOf(out);
    }

    /**
     * The names of ggml's backend registries loaded in this process, in ggml's order, for example
     * {@code [CUDA, CPU]} or {@code [CPU]}.
     */
    public static java.util.List<String> backendNames() {
        init();
        java.util.List<String> out = new java.util.ArrayList<>();
        long n = ggml_backend_reg_count();
        for (long i = 0; i < n; i++) {
            out.add(NativeStrings.utf8(ggml_backend_reg_name(ggml_backend_reg_get(i))));
        }
        return java.util.List.copyOf(out);
    }

    /** Whether the natives on the classpath carry a GPU backend (CUDA, Vulkan or Metal). */
    public static boolean isGpuBuild() {
        init();
        return NativeLibrary.isGpuBuild();
    }

    /** Whether a GPU is available to offload layers to. */
    public static boolean hasGpu() {
        return devices().stream().anyMatch(Device::isGpu);
    }

    /**
     * llama.cpp's system information line (backends and CPU features in use), followed by the CPU
     * backend's extra buffer types and whether Intel AMX kernels are used, e.g.
     * {@code EXTRA_BUFFER_TYPES = CPU_REPACK | AMX_USED = 0 | } ({@link #cpuExtraBufferTypes()},
     * {@link #amxUsed()}). In a distributable build (GGML_BACKEND_DL with one CPU backend per
     * instruction-set level) it ends with the variant ggml chose for this CPU, e.g.
     * {@code CPU_VARIANT = haswell | }.
     */
    public static String systemInfo() {
        init();
        String info = llama_print_system_info().getString(StandardCharsets.UTF_8);
        java.util.List<String> extra = cpuExtraBufferTypes();
        info += "EXTRA_BUFFER_TYPES = " + (extra.isEmpty() ? "none" : String.join(",", extra)) + " | AMX_USED = "
                + (extra.contains(AMX_BUFFER_TYPE) ? 1 : 0) + " | ";
        String variant = NativeLibrary.cpuVariant();
        return variant == null ? info : info + "CPU_VARIANT = " + variant + " | ";
    }

    /** The name ggml gives its AMX buffer type. */
    static final String AMX_BUFFER_TYPE = "AMX";

    /**
     * The extra buffer types the CPU backend offers on this machine, as ggml names them: for example
     * {@code CPU_REPACK} (weights repacked for the CPU's SIMD kernels) and {@code AMX} (Intel AMX
     * matrix kernels). Models use them unless loaded with {@link ModelParams#extraBufferTypes()}
     * false (llama.cpp's {@code --no-repack}).
     */
    public static java.util.List<String> cpuExtraBufferTypes() {
        init();
        byte[] buf = new byte[512];
        int n = llamajava_cpu_extra_buffer_types(buf, buf.length);
        String names = NativeStrings.untilNul(buf);
        return n == 0 || names.isEmpty() ? java.util.List.of() : java.util.List.of(names.split(","));
    }

    /**
     * Whether models loaded with default {@link ModelParams} run their quantized matrix products on
     * Intel AMX: the CPU backend was built with AMX, the CPU has it and the kernel granted it (ggml's
     * {@code AMX} buffer type is offered). llama-java's natives carry a fix, checked when they are
     * built, for the crash that ggml's AMX kernels have when built by GCC 12.
     */
    public static boolean amxUsed() {
        return cpuExtraBufferTypes().contains(AMX_BUFFER_TYPE);
    }

    /**
     * The CPU backend variant ggml loaded for this machine in a distributable build (for example
     * {@code haswell}, {@code skylakex}, {@code armv8.2_1}), or empty where the CPU backend is built
     * for the build host and linked in (the development default).
     */
    public static java.util.Optional<String> cpuVariant() {
        init();
        return java.util.Optional.ofNullable(NativeLibrary.cpuVariant());
    }

    static void restoreCpuVariantForTests(String variant) {
        NativeLibrary.restoreCpuVariant(variant);
    }

    /** Notes which CPU variant ggml's loader reports having loaded. */
    static void noteBackendLoaded(String logLine) {
        NativeLibrary.noteBackendLoaded(logLine);
    }
}
