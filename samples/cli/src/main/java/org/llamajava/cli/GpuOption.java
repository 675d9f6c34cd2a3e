package org.llamajava.cli;

import java.util.ArrayList;
import java.util.List;
import org.llamajava.ModelParams;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where the model's weights go: {@code -ngl/--n-gpu-layers N|auto|all} (layers offloaded to a GPU, default
 * all, as in llama.cpp's tools; no effect without a GPU), {@code --rpc HOST:PORT[,...]} (RPC
 * servers, {@link RpcOption}), {@code -ot/--override-tensor PATTERN=TYPE[,...]},
 * {@code -cmoe/--cpu-moe} and {@code -ncmoe/--n-cpu-moe N} (tensor buffer-type overrides, as
 * llama.cpp's), {@code -nr/--no-repack} (no extra CPU buffer types: no repacking, no AMX),
 * {@code -dev/--device DEV[,...]} (where offloaded layers go: device or backend names, or none),
 * {@code --device-fallback} (the CPU instead of an error where those are missing) and
 * {@code --list-devices} (print the devices and exit, as llama.cpp's). Environment defaults as
 * llama.cpp's {@code LLAMA_ARG_*}.
 */
final class GpuOption {
    @Option(names = {"-ngl", "--gpu-layers", "--n-gpu-layers"}, paramLabel = "N",
            defaultValue = "${env:LLAMA_ARG_N_GPU_LAYERS}",
            description = "layers to offload to a GPU: a number, auto or all (default: all; env: LLAMA_ARG_N_GPU_LAYERS)")
    String gpuLayers;

    @Mixin
    RpcOption rpc;

    @Option(names = {"-dev", "--device"}, paramLabel = "DEV[,...]", defaultValue = "${env:LLAMA_ARG_DEVICE}",
            description = "devices to offload to, comma-separated: names from --list-devices (Vulkan0, CUDA0), a"
                    + " backend (Vulkan, CUDA) or none for the CPU; default: the GPUs of CUDA, else Vulkan"
                    + " (env: LLAMA_ARG_DEVICE)")
    String device;

    @Option(names = "--device-fallback", description = "run on the CPU, with a warning, where the --device asked for"
            + " is not here or loading onto it fails (default: an error)")
    boolean deviceFallback;

    @Option(names = "--list-devices", description = "print the available devices and exit")
    boolean listDevices;

    /** With --list-devices: prints the devices as llama.cpp's tools do ({@code NAME: DESCRIPTION (TOTAL MiB, FREE MiB free)}). */
    boolean printDevicesIfAsked(java.io.PrintStream out) {
        if (!listDevices) {
            return false;
        }
        out.println("Available devices:");
        for (org.llamajava.Device d : org.llamajava.Llama.devices()) {
            if (d.type() == org.llamajava.Device.Type.CPU) {
                continue; // llama.cpp lists the devices layers can be offloaded to
            }
            out.printf("  %s: %s (%d MiB, %d MiB free) [%s]%n", d.name(), d.description(), d.memoryTotal() >> 20,
                    d.memoryFree() >> 20, d.backend());
        }
        return true;
    }

    @Option(names = {"-ot", "--override-tensor"}, paramLabel = "PATTERN=TYPE[,...]",
            description = "keep tensors whose name matches PATTERN (a regex) in buffer type TYPE, e.g."
                    + " exps=CPU; repeatable (env: LLAMA_ARG_OVERRIDE_TENSOR)")
    List<String> overrideTensors = new ArrayList<>();

    @Option(names = {"-cmoe", "--cpu-moe"}, defaultValue = "${env:LLAMA_ARG_CPU_MOE:-false}",
            description = "keep all mixture-of-experts weights on the CPU (env: LLAMA_ARG_CPU_MOE)")
    boolean cpuMoe;

    @Option(names = {"-ncmoe", "--n-cpu-moe"}, paramLabel = "N", defaultValue = "${env:LLAMA_ARG_N_CPU_MOE}",
            description = "keep the mixture-of-experts weights of the first N layers on the CPU"
                    + " (env: LLAMA_ARG_N_CPU_MOE)")
    Integer nCpuMoe;

    @Option(names = {"-nr", "--no-repack"}, description = "keep every weight in plain CPU memory: no repacked"
            + " weights and no Intel AMX kernels (llama.cpp's --no-repack; env: LLAMA_ARG_REPACK=false)")
    boolean noRepack;

    @Option(names = "--repack", description = "let the CPU backend repack weights and use AMX where the CPU has it"
            + " (the default)")
    boolean repack;

    /** Whether the CPU backend may use its extra buffer types: --no-repack, --repack, else LLAMA_ARG_REPACK. */
    boolean extraBufferTypes() {
        if (noRepack && repack) {
            throw new UsageException("--repack and --no-repack contradict each other; give one");
        }
        if (noRepack || repack) {
            return repack;
        }
        String env = System.getenv("LLAMA_ARG_REPACK");
        return env == null || !(env.equalsIgnoreCase("false") || env.equals("0") || env.equalsIgnoreCase("off"));
    }

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

    /** Model parameters with these layers, RPC servers and overrides; the caller may add more. */
    ModelParams.Builder modelParams() {
        ModelParams.Builder b = rpc.apply(ModelParams.builder().gpuLayers(layers())).extraBufferTypes(extraBufferTypes());
        if (device != null && !device.isBlank()) {
            List<String> names = new ArrayList<>();
            for (String d : device.split(",")) {
                if (d.isBlank()) {
                    throw new UsageException("--device takes device names separated by commas, not '" + device + "'");
                }
                names.add(d.strip());
            }
            b.devices(names);
        }
        b.deviceFallback(deviceFallback);
        List<String> specs = new ArrayList<>(overrideTensors);
        String env = System.getenv("LLAMA_ARG_OVERRIDE_TENSOR");
        if (specs.isEmpty() && env != null && !env.isBlank()) {
            specs.add(env);
        }
        for (String spec : specs) {
            try {
                b.overrideTensors(spec);
            } catch (IllegalArgumentException e) {
                throw new UsageException("-ot " + spec + ": " + e.getMessage());
            }
        }
        if (cpuMoe) {
            b.cpuMoe();
        }
        if (nCpuMoe != null) {
            if (nCpuMoe < 0) {
                throw new UsageException("--n-cpu-moe must be >= 0");
            }
            if (nCpuMoe > 0) {
                b.nCpuMoe(nCpuMoe);
            }
        }
        return b;
    }
}
