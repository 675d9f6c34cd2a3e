package org.llamajava.cli;

import org.llamajava.ModelParams;
import picocli.CommandLine.Option;

/**
 * {@code -ngl/--gpu-layers/--n-gpu-layers N|auto|all}: layers offloaded to a GPU (default: all;
 * {@code auto} and {@code all} both offload every layer here; no effect without a GPU).
 * Environment default {@code LLAMA_ARG_N_GPU_LAYERS}, as llama.cpp's tools.
 */
final class GpuOption {
    @Option(names = {"-ngl", "--gpu-layers", "--n-gpu-layers"}, paramLabel = "N",
            defaultValue = "${env:LLAMA_ARG_N_GPU_LAYERS}",
            description = "layers to offload to a GPU: a number, auto or all (default: all; env: LLAMA_ARG_N_GPU_LAYERS)")
    String gpuLayers;

    /** The layers to offload, checked. */
    int layers() {
        if (gpuLayers == null || gpuLayers.equals("all") || gpuLayers.equals("auto")) {
            return ModelParams.ALL_LAYERS;
        }
        int n;
        try {
            n = Integer.parseInt(gpuLayers.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("-ngl takes a number of layers, auto or all, not '" + gpuLayers + "'");
        }
        if (n < 0) {
            throw new UsageException("-ngl must be >= 0");
        }
        return n;
    }

    /** Model parameters with these layers; the caller may add more. */
    ModelParams.Builder modelParams() {
        return ModelParams.builder().gpuLayers(layers());
    }
}
