package org.llamajava;

import java.util.Arrays;
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
 */
public record ModelParams(boolean useMmap, boolean useMlock, int gpuLayers, boolean vocabOnly,
                          boolean checkTensors, LoadProgressListener progress, SplitMode splitMode, int mainGpu,
                          float[] tensorSplit) {

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
                && Arrays.equals(tensorSplit, p.tensorSplit);
    }

    @Override
    public int hashCode() {
        return Objects.hash(useMmap, useMlock, gpuLayers, vocabOnly, checkTensors, progress, splitMode, mainGpu,
                Arrays.hashCode(tensorSplit));
    }

    @Override
    public String toString() {
        return "ModelParams[useMmap=" + useMmap + ", useMlock=" + useMlock + ", gpuLayers=" + gpuLayers
                + ", vocabOnly=" + vocabOnly + ", checkTensors=" + checkTensors + ", progress=" + progress
                + ", splitMode=" + splitMode + ", mainGpu=" + mainGpu + ", tensorSplit=" + Arrays.toString(tensorSplit)
                + "]";
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

        private Builder() {}

        public Builder useMmap(boolean v) { this.useMmap = v; return this; }
        public Builder useMlock(boolean v) { this.useMlock = v; return this; }
        public Builder gpuLayers(int v) { this.gpuLayers = v; return this; }
        public Builder vocabOnly(boolean v) { this.vocabOnly = v; return this; }
        public Builder checkTensors(boolean v) { this.checkTensors = v; return this; }
        public Builder progress(LoadProgressListener v) { this.progress = v; return this; }
        public Builder splitMode(SplitMode v) { this.splitMode = v; return this; }
        public Builder mainGpu(int v) { this.mainGpu = v; return this; }
        public Builder tensorSplit(float... v) { this.tensorSplit = v; return this; }

        public ModelParams build() {
            return new ModelParams(useMmap, useMlock, gpuLayers, vocabOnly, checkTensors, progress, splitMode, mainGpu,
                    tensorSplit);
        }
    }
}
