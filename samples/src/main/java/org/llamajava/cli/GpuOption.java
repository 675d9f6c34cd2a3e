package org.llamajava.cli;

import org.llamajava.ModelParams;
import picocli.CommandLine.Option;

/**
 * {@code -ngl/--n-gpu-layers N}: layers offloaded to a GPU (default: all, as in llama.cpp's tools;
 * no effect without a GPU). Environment default {@code LLAMA_ARG_N_GPU_LAYERS}.
 */
final class GpuOption {
    @Option(names = {"-ngl", "--n-gpu-layers", "--gpu-layers"}, paramLabel = "N",
            defaultValue = "${env:LLAMA_ARG_N_GPU_LAYERS}",
            description = "layers to offload to a GPU (default: all; env: LLAMA_ARG_N_GPU_LAYERS)")
    Integer gpuLayers;

    /** The layers to offload, checked. */
    int layers() {
        if (gpuLayers == null) {
            return ModelParams.ALL_LAYERS;
        }
        if (gpuLayers < 0) {
            throw new UsageException("-ngl must be >= 0");
        }
        return gpuLayers;
    }

    /** Model parameters with these layers; the caller may add more. */
    ModelParams.Builder modelParams() {
        return ModelParams.builder().gpuLayers(layers());
    }
}
