package org.llamajava;

/**
 * A compute device ggml can run on, as its backend registry reports it.
 *
 * @param index       position in ggml's device list
 * @param name        short name, e.g. {@code CPU} or {@code CUDA0}
 * @param description longer description, e.g. the GPU model
 * @param type        CPU, GPU, integrated GPU or accelerator
 * @param memoryFree  free memory in bytes
 * @param memoryTotal total memory in bytes
 */
public record Device(int index, String name, String description, Type type, long memoryFree, long memoryTotal) {
    /** Kinds of device. */
    public enum Type { CPU, GPU, INTEGRATED_GPU, ACCELERATOR, OTHER }

    /** Whether this is a discrete or integrated GPU. */
    public boolean isGpu() {
        return type == Type.GPU || type == Type.INTEGRATED_GPU;
    }
}
