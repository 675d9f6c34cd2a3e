package org.llamajava.internal;

import static org.llamajava.bindings.global.llama.*;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * The process-wide bootstrap of llama.cpp: loads the JavaCPP natives from the classpath, routes
 * llama.cpp's and ggml's log through {@link NativeLog}, loads ggml's dynamic backends (in a
 * distributable build) and initialises the backends, once. {@code org.llamajava.Llama.init()}
 * delegates here; packages below the root package ({@code gguf}, {@code grammar}) call
 * {@link #init()} themselves.
 *
 * <p>JavaCPP's own resident-memory limit ({@value #MAX_PHYSICAL_BYTES}) is lifted when this class
 * initialises, unless the application set it (see {@code org.llamajava.Llama}).
 *
 * <p>Internal: not part of the API.
 */
public final class NativeLibrary {
    /** JavaCPP's system property for its resident-memory limit. */
    public static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

    private static final Logger LOG = System.getLogger(NativeLog.LOGGER);
    private static final Pattern LOADED_CPU =
            Pattern.compile("load_backend: loaded CPU backend from .*?ggml-cpu-([A-Za-z0-9_.]+?)\\.(?:so|dylib|dll)\\s*$");

    private static volatile boolean initialised;
    private static volatile boolean gpuBuild;
    // the dynamic backends the natives list (ggml-backends.txt), whether or not they loaded
    private static final java.util.List<String> listedBackends = new java.util.concurrent.CopyOnWriteArrayList<>();
    // the folder the listed backends were extracted to, or null
    private static volatile java.io.File backendDir;
    // the CPU variant ggml loaded in a distributable build (libggml-cpu-haswell.so: "haswell"), or null
    private static volatile String cpuVariant;

    static {
        liftJavaCppMemoryLimit();
    }

    private NativeLibrary() {}

    /**
     * Sets JavaCPP's resident-memory limit to none unless the application set one: model weights,
     * KV caches and a GPU runtime live in native memory that the limit would otherwise count.
     */
    public static void liftJavaCppMemoryLimit() {
        if (System.getProperty(MAX_PHYSICAL_BYTES) == null && System.getProperty(MAX_PHYSICAL_BYTES.toLowerCase()) == null) {
            System.setProperty(MAX_PHYSICAL_BYTES, "0");
        }
    }

    /**
     * Loads the natives and initialises llama.cpp's backends; idempotent and thread-safe.
     *
     * @throws IllegalStateException if the natives or ggml's backends cannot be loaded on this
     *     machine, with the reason (and the underlying error as the cause, where there is one)
     */
    public static void init() {
        if (initialised) {
            return;
        }
        synchronized (NativeLibrary.class) {
            if (initialised) {
                return;
            }
            try {
                Loader.load(org.llamajava.bindings.global.llama.class);
            } catch (UnsatisfiedLinkError e) {
                throw new IllegalStateException("could not load llama.cpp's native libraries for platform "
                        + Loader.getPlatform() + "; is org.llamajava:native with classifier "
                        + Loader.getPlatform() + " on the classpath? (" + e.getMessage() + ")", e);
            }
            if (Pointer.maxPhysicalBytes() > 0 && System.getProperty(MAX_PHYSICAL_BYTES, "").equals("0")) {
                LOG.log(Level.WARNING, "JavaCPP was initialised before llama-java with a resident-memory limit of "
                        + (Pointer.maxPhysicalBytes() >> 20) + " MiB, which llama.cpp's native memory counts toward: "
                        + "allocations past it throw OutOfMemoryError. Start the JVM with -D" + MAX_PHYSICAL_BYTES
                        + "=0 to lift it.");
            }
            llama_log_set(NativeLog.callback(), null);
            ggml_log_set(NativeLog.callback(), null);
            loadDynamicBackends();
            llama_backend_init();
            initialised = true;
        }
    }

    /**
     * In a distributable build (GGML_BACKEND_DL) the CPU variants and GPU backends are separate
     * libraries named in {@code ggml-backends.txt} next to the others: extract them and let ggml
     * load the ones this machine supports.
     */
    private static void loadDynamicBackends() {
        preloadCudaRuntime();
        String folder = "/org/llamajava/bindings/" + Loader.getPlatform();
        String list = folder + "/ggml-backends.txt";
        try (java.io.InputStream in = NativeLibrary.class.getResourceAsStream(list)) {
            if (in == null) {
                return; // backends are linked in
            }
            java.io.File dir = null;
            for (String name : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\\R")) {
                gpuBuild |= name.contains("cuda") || name.contains("metal") || name.contains("vulkan");
                if (!name.isBlank()) {
                    listedBackends.add(name.strip());
                }
                if (!name.isBlank()) {
                    dir = Loader.cacheResource(NativeLibrary.class, folder + "/" + name.strip()).getParentFile();
                }
            }
            if (dir != null) {
                backendDir = dir;
                ggml_backend_load_all_from_path(dir.getAbsolutePath());
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("could not extract ggml's backends: " + e.getMessage(), e);
        }
        if (ggml_backend_reg_count() == 0) {
            throw new IllegalStateException("no ggml backend could be loaded on this machine (" + Loader.getPlatform() + ")");
        }
    }

    /**
     * If the JavaCPP CUDA presets' redistributable runtime ({@code org.bytedeco:cuda-platform-redist})
     * is on the classpath, load cudart and cuBLAS from it, so that the CUDA backend needs only the
     * NVIDIA driver on the machine.
     */
    private static void preloadCudaRuntime() {
        for (String cls : new String[] {"org.bytedeco.cuda.global.cudart", "org.bytedeco.cuda.global.cublas"}) {
            try {
                Loader.load(Class.forName(cls));
            } catch (ClassNotFoundException e) {
                return; // not on the classpath: the system's CUDA runtime is used, if any
            } catch (Throwable e) {
                LOG.log(Level.WARNING, "could not load " + cls + " from the classpath: " + e);
            }
        }
    }

    /** The dynamic backend libraries the natives list (ggml-backends.txt); after {@link #init()}. */
    public static java.util.List<String> listedBackends() {
        return java.util.List.copyOf(listedBackends);
    }

    /**
     * Why the listed backend library whose name contains {@code ggml-<backend>} did not load, as the
     * system's loader says it (a missing runtime library: {@code libcudart.so.13: cannot open shared
     * object file}), or null where it loads (then its backend found no device or driver at init) or is
     * not listed. ggml's loader drops that reason (it loads backends silently); this asks the system's
     * loader again, only when a missing device is being explained.
     */
    public static String whyNotLoaded(String backend) {
        java.io.File dir = backendDir;
        if (dir == null) {
            return null;
        }
        String want = "ggml-" + backend.toLowerCase(java.util.Locale.ROOT);
        for (String name : listedBackends) {
            if (name.toLowerCase(java.util.Locale.ROOT).contains(want)) {
                try {
                    System.load(new java.io.File(dir, name).getAbsolutePath());
                    return null;
                } catch (UnsatisfiedLinkError e) {
                    return e.getMessage();
                }
            }
        }
        return null;
    }

    /** Whether the natives on the classpath were built with a GPU backend (CUDA, Vulkan or Metal); after {@link #init()}. */
    public static boolean isGpuBuild() {
        return gpuBuild;
    }

    /**
     * The CPU backend variant ggml's loader reported loading in a distributable build (for example
     * {@code haswell}), or null where the CPU backend is linked in; after {@link #init()}.
     */
    public static String cpuVariant() {
        return cpuVariant;
    }

    /** Sets the CPU variant back to {@code variant} (tests that fed {@link #noteBackendLoaded} lines). */
    public static void restoreCpuVariant(String variant) {
        cpuVariant = variant;
    }

    /** Notes which CPU variant ggml's loader reports having loaded, from one of its log lines. */
    public static void noteBackendLoaded(String logLine) {
        Matcher m = LOADED_CPU.matcher(logLine);
        if (m.find()) {
            cpuVariant = m.group(1);
        }
    }
}
