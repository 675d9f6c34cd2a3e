package org.llamajava;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How to load a {@link Model}. Build with {@link #builder()}; {@link #defaults()} matches
 * llama.cpp's defaults (mmap on, all layers offloaded where a GPU exists).
 *
 * @param useMmap   map the file into memory instead of reading it
 * @param useMlock  lock the model's memory so it is never swapped out
 * @param gpuLayers layers to offload to the GPU: {@link #ALL_LAYERS} for all, 0 for none
 * @param vocabOnly load only the vocabulary (tokenize and detokenize, no inference)
 * @param checkTensors validate tensor data while loading
 * @param progress  load progress listener that may cancel, or null
 * @param splitMode how to split the model across several GPUs
 * @param mainGpu   the GPU (index among GPUs) that holds the model with {@link SplitMode#NONE}
 * @param tensorSplit share of the model per GPU (null: in proportion to free memory)
 * @param tensorOverrides where tensors matching patterns are kept (llama.cpp's {@code -ot}), first
 *     match wins; each pattern must match a tensor of the file and each buffer type must exist
 * @param cpuMoe keep every mixture-of-experts expert tensor in CPU memory ({@code --cpu-moe})
 * @param nCpuMoe keep the expert tensors of the first {@code nCpuMoe} layers in CPU memory
 *     ({@code --n-cpu-moe}); 0 for none
 * @param rpcServers {@code host:port} of llama.cpp RPC servers whose devices join the local ones
 *     (llama.cpp's {@code --rpc}); layers split across all devices by {@code splitMode} and
 *     {@code tensorSplit}. RPC is unauthenticated: use it on trusted networks only
 * @param rpcTimeout how long one native call of a model on RPC servers (a decode with the wait
 *     for its outputs, a state read; for a load, the time without progress) may take before the
 *     servers count as gone (null: 10 minutes, room for a large batch on a slow remote CPU; a
 *     server that dies is noticed at once). Such calls run on a worker thread, so that a server
 *     that dies or stops answering is an {@link RpcServerException} instead of the end of the process (ggml's RPC client
 *     aborts). {@link java.time.Duration#ZERO} turns that guard off: calls run on the caller's
 *     thread, and a dying server ends the process as it does in llama.cpp's own tools
 * @param extraBufferTypes let the CPU backend keep weights in its extra buffer types (default true,
 *     as llama.cpp): weights repacked for the CPU's SIMD kernels ({@code CPU_REPACK}) and, on CPUs
 *     with Intel AMX, the AMX matrix kernels for Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K and IQ4_XS
 *     ({@code AMX}). False is llama.cpp's {@code --no-repack} ({@code no_extra_bufts}): every weight
 *     stays in plain CPU memory, with the plain kernels. {@link Llama#cpuExtraBufferTypes()} lists
 *     what this machine offers
 * @param devices where the offloaded layers go (llama.cpp's {@code --device}): each entry a device
 *     name from {@link Llama#devices()} ({@code Vulkan0}, {@code CUDA1}), a backend's name for all of
 *     its devices ({@code Vulkan}, {@code CUDA}, {@code Metal}), or {@code CPU} / {@code none} for no
 *     offload; case-insensitive. Empty (the default): the GPUs of the first backend present in the
 *     order CUDA, Vulkan, then any other GPU backend (so that one GPU seen by both CUDA and Vulkan is
 *     used once), or the CPU where there is none. A name that is not on this machine is a
 *     {@link DeviceUnavailableException} at load, unless {@code deviceFallback}
 * @param deviceFallback run on the CPU instead of failing when a requested device or backend is not
 *     here (no driver, failed initialisation) or when loading onto the GPU fails (out of its memory),
 *     and keep a context's KV cache in host memory when it does not fit the GPU's free memory, with a
 *     logged warning; default false
 */
public record ModelParams(boolean useMmap, boolean useMlock, int gpuLayers, boolean vocabOnly,
                          boolean checkTensors, LoadProgressListener progress, SplitMode splitMode, int mainGpu,
                          float[] tensorSplit, List<TensorOverride> tensorOverrides, boolean cpuMoe, int nCpuMoe,
                          List<String> rpcServers, java.time.Duration rpcTimeout, boolean extraBufferTypes,
                          List<String> devices, boolean deviceFallback) {

    /** The default {@link #rpcTimeout()}. */
    public static final java.time.Duration DEFAULT_RPC_TIMEOUT = java.time.Duration.ofMinutes(10);

    /** Parameters without tensor overrides or RPC servers. */
    public ModelParams(boolean useMmap, boolean useMlock, int gpuLayers, boolean vocabOnly, boolean checkTensors,
                       LoadProgressListener progress, SplitMode splitMode, int mainGpu, float[] tensorSplit) {
        this(useMmap, useMlock, gpuLayers, vocabOnly, checkTensors, progress, splitMode, mainGpu, tensorSplit,
                List.of(), false, 0, List.of(), null, true, List.of(), false);
    }

    /** Parameters with the default device choice. */
    public ModelParams(boolean useMmap, boolean useMlock, int gpuLayers, boolean vocabOnly, boolean checkTensors,
                       LoadProgressListener progress, SplitMode splitMode, int mainGpu, float[] tensorSplit,
                       List<TensorOverride> tensorOverrides, boolean cpuMoe, int nCpuMoe, List<String> rpcServers,
                       java.time.Duration rpcTimeout, boolean extraBufferTypes) {
        this(useMmap, useMlock, gpuLayers, vocabOnly, checkTensors, progress, splitMode, mainGpu, tensorSplit,
                tensorOverrides, cpuMoe, nCpuMoe, rpcServers, rpcTimeout, extraBufferTypes, List.of(), false);
    }

    /** {@link #gpuLayers()} value that offloads every layer. */
    public static final int ALL_LAYERS = -1;

    public ModelParams {
        if (gpuLayers < ALL_LAYERS) {
            throw new IllegalArgumentException("gpuLayers must be >= 0, or ALL_LAYERS (-1); got " + gpuLayers);
        }
        if (splitMode == null) {
            throw new IllegalArgumentException("splitMode must not be null");
        }
        if (mainGpu < 0) {
            throw new IllegalArgumentException("mainGpu must be >= 0; got " + mainGpu);
        }
        if (tensorSplit != null) {
            tensorSplit = tensorSplit.clone();
            for (float f : tensorSplit) {
                if (!(f >= 0) || Float.isInfinite(f)) {
                    throw new IllegalArgumentException("tensorSplit shares must be finite and >= 0");
                }
            }
        }
        tensorOverrides = tensorOverrides == null ? List.of() : List.copyOf(tensorOverrides);
        if (nCpuMoe < 0) {
            throw new IllegalArgumentException("nCpuMoe must be >= 0; got " + nCpuMoe);
        }
        rpcServers = rpcServers == null ? List.of() : List.copyOf(rpcServers);
        for (String server : rpcServers) {
            RpcServers.parseEndpoint(server);
        }
        if (rpcTimeout == null) {
            rpcTimeout = DEFAULT_RPC_TIMEOUT;
        }
        if (rpcTimeout.isNegative()) {
            throw new IllegalArgumentException("rpcTimeout must be >= 0 (0 turns the guard off); got " + rpcTimeout);
        }
        devices = devices == null ? List.of() : List.copyOf(devices);
        for (String d : devices) {
            if (d.isBlank() || d.contains(",")) {
                throw new IllegalArgumentException("a device name must not be blank or contain ','; got '" + d + "'");
            }
        }
    }

    /** A copy of the per-GPU shares, or null. */
    @Override
    public float[] tensorSplit() {
        return tensorSplit == null ? null : tensorSplit.clone();
    }

    /** Equal when every component is, the tensor split compared by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ModelParams p && useMmap == p.useMmap && useMlock == p.useMlock
                && gpuLayers == p.gpuLayers && vocabOnly == p.vocabOnly && checkTensors == p.checkTensors
                && Objects.equals(progress, p.progress) && splitMode == p.splitMode && mainGpu == p.mainGpu
                && Arrays.equals(tensorSplit, p.tensorSplit) && tensorOverrides.equals(p.tensorOverrides)
                && cpuMoe == p.cpuMoe && nCpuMoe == p.nCpuMoe && rpcServers.equals(p.rpcServers)
                && rpcTimeout.equals(p.rpcTimeout) && extraBufferTypes == p.extraBufferTypes
                && devices.equals(p.devices) && deviceFallback == p.deviceFallback;
    }

    @Override
    public int hashCode() {
        return Objects.hash(useMmap, useMlock, gpuLayers, vocabOnly, checkTensors, progress, splitMode, mainGpu,
                Arrays.hashCode(tensorSplit), tensorOverrides, cpuMoe, nCpuMoe, rpcServers, rpcTimeout, extraBufferTypes,
                devices, deviceFallback);
    }

    @Override
    public String toString() {
        return "ModelParams[useMmap=" + useMmap + ", useMlock=" + useMlock + ", gpuLayers=" + gpuLayers
                + ", vocabOnly=" + vocabOnly + ", checkTensors=" + checkTensors + ", progress=" + progress
                + ", splitMode=" + splitMode + ", mainGpu=" + mainGpu + ", tensorSplit=" + Arrays.toString(tensorSplit)
                + ", tensorOverrides=" + tensorOverrides + ", cpuMoe=" + cpuMoe + ", nCpuMoe=" + nCpuMoe
                + ", rpcServers=" + rpcServers + ", rpcTimeout=" + rpcTimeout + ", extraBufferTypes=" + extraBufferTypes
                + ", devices=" + devices + ", deviceFallback=" + deviceFallback + "]";
    }

    /** llama.cpp's defaults. */
    public static ModelParams defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link ModelParams}. */
    public static final class Builder {
        private boolean useMmap = true;
        private boolean useMlock;
        private int gpuLayers = ALL_LAYERS;
        private boolean vocabOnly;
        private boolean checkTensors;
        private LoadProgressListener progress;
        private SplitMode splitMode = SplitMode.LAYER;
        private int mainGpu;
        private float[] tensorSplit;
        private final List<TensorOverride> tensorOverrides = new ArrayList<>();
        private boolean cpuMoe;
        private int nCpuMoe;
        private List<String> rpcServers = List.of();
        private java.time.Duration rpcTimeout;
        private boolean extraBufferTypes = true;
        private List<String> devices = List.of();
        private boolean deviceFallback;

        private Builder() {}

        /**
         * Where the offloaded layers go (llama.cpp's {@code --device}): device names ({@code Vulkan0}),
         * backend names ({@code Vulkan}, {@code CUDA}) or {@code CPU}/{@code none}; see {@link ModelParams#devices()}.
         */
        public Builder devices(String... v) { this.devices = List.of(v); return this; }

        /** Where the offloaded layers go; see {@link ModelParams#devices()}. */
        public Builder devices(List<String> v) { this.devices = List.copyOf(v); return this; }

        /** Run on the CPU, with a warning, where the requested devices are missing or loading onto them fails. */
        public Builder deviceFallback(boolean v) { this.deviceFallback = v; return this; }

        public Builder useMmap(boolean v) { this.useMmap = v; return this; }
        public Builder useMlock(boolean v) { this.useMlock = v; return this; }
        public Builder gpuLayers(int v) { this.gpuLayers = v; return this; }
        public Builder vocabOnly(boolean v) { this.vocabOnly = v; return this; }
        public Builder checkTensors(boolean v) { this.checkTensors = v; return this; }
        public Builder progress(LoadProgressListener v) { this.progress = v; return this; }
        public Builder splitMode(SplitMode v) { this.splitMode = v; return this; }
        public Builder mainGpu(int v) { this.mainGpu = v; return this; }
        public Builder tensorSplit(float... v) { this.tensorSplit = v; return this; }

        /** Keeps tensors matching {@code pattern} in buffer type {@code bufferType} (llama.cpp's {@code -ot}). */
        public Builder overrideTensor(String pattern, String bufferType) {
            tensorOverrides.add(new TensorOverride(pattern, bufferType));
            return this;
        }

        /** Adds overrides in llama.cpp's {@code -ot} syntax, {@code PATTERN=TYPE[,PATTERN=TYPE...]}. */
        public Builder overrideTensors(String spec) {
            tensorOverrides.addAll(TensorOverride.parse(spec));
            return this;
        }

        /** Keeps every expert tensor of a mixture-of-experts model in CPU memory (llama.cpp's {@code --cpu-moe}). */
        public Builder cpuMoe() { this.cpuMoe = true; return this; }

        /**
         * Keeps the expert tensors of the first {@code n} layers in CPU memory (llama.cpp's
         * {@code --n-cpu-moe N}); {@code n} may exceed the layer count (all layers).
         */
        public Builder nCpuMoe(int n) { this.nCpuMoe = n; return this; }

        /** RPC servers ({@code host:port}) whose devices join the local ones (llama.cpp's {@code --rpc}). */
        public Builder rpcServers(String... v) { this.rpcServers = List.of(v); return this; }

        /** RPC servers ({@code host:port}). */
        public Builder rpcServers(List<String> v) { this.rpcServers = List.copyOf(v); return this; }

        /**
         * How long one native call on the RPC servers may take before they count as gone
         * (default {@link #DEFAULT_RPC_TIMEOUT}); {@link java.time.Duration#ZERO} turns the guard off.
         */
        public Builder rpcTimeout(java.time.Duration v) { this.rpcTimeout = v; return this; }

        /**
         * Whether the CPU backend may keep weights in its extra buffer types, repacked or for AMX
         * (default true); false is llama.cpp's {@code --no-repack}. See {@link ModelParams#extraBufferTypes()}.
         */
        public Builder extraBufferTypes(boolean v) { this.extraBufferTypes = v; return this; }

        public ModelParams build() {
            return new ModelParams(useMmap, useMlock, gpuLayers, vocabOnly, checkTensors, progress, splitMode, mainGpu,
                    tensorSplit, tensorOverrides, cpuMoe, nCpuMoe, rpcServers, rpcTimeout, extraBufferTypes, devices,
                    deviceFallback);
        }
    }
}
