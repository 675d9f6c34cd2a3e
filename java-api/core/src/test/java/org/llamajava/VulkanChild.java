package org.llamajava;

import java.nio.file.Path;

/**
 * {@link VulkanTest}'s child JVM (run without a Vulkan driver): {@code strict MODEL} pins Vulkan and
 * prints the error, {@code fallback MODEL} pins it with fallback and {@code default MODEL} uses the
 * default choice, each printing the greedy text as {@code TEXT[...]}.
 */
public final class VulkanChild {
    private VulkanChild() {}

    public static void main(String[] args) {
        Path model = Path.of(args[1]);
        System.out.println("devices: " + Llama.devices().stream().map(Device::name).toList());
        ModelParams.Builder params = ModelParams.builder();
        switch (args[0]) {
            case "strict" -> params.devices("Vulkan");
            case "fallback" -> params.devices("Vulkan").deviceFallback(true);
            default -> { }
        }
        try {
            System.out.println("TEXT[" + VulkanTest.generate(model, params.build()) + "]");
        } catch (DeviceUnavailableException e) {
            System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
