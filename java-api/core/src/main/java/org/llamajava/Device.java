package org.llamajava;

/**
 * A compute device ggml can run on, as its backend registry reports it.
 *
 * @param index       position in ggml's device list
 * @param name        short name, e.g. {@code CPU}, {@code CUDA0} or {@code Vulkan0}: what
 *                    {@link ModelParams.Builder#devices(String...)} and the CLI's {@code --device} take
 * @param description longer description, e.g. the GPU model
 * @param type        CPU, GPU, integrated GPU or accelerator
 * @param memoryFree  free memory in bytes
 * @param memoryTotal total memory in bytes
 * @param backend     the ggml backend that drives it: {@code CPU}, {@code CUDA}, {@code Vulkan},
 *                    {@code Metal}, {@code RPC}, ...
 */
public record Device(int index, String name, String description, Type type, long memoryFree, long memoryTotal,
                     String backend) {
    /** Kinds of device. */
    public enum Type { CPU, GPU, INTEGRATED_GPU, ACCELERATOR, OTHER }

    /** A device whose backend is not known. */
    public Device(int index, String name, String description, Type type, long memoryFree, long memoryTotal) {
        this(index, name, description, type, memoryFree, memoryTotal, "");
    }

    public Device {
        backend = backend == null ? "" : backend;
    }

    /** Whether this is a discrete or integrated GPU. */
    public boolean isGpu() {
        return type == Type.GPU || type == Type.INTEGRATED_GPU;
    }
}
