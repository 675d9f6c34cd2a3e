package org.llamajava;

import java.nio.file.Path;

/**
 * {@link VulkanMemoryTest}'s child JVM, run with ggml's Vulkan allocations capped (GGML_VK_FORCE_MAX_ALLOCATION_SIZE):
 * {@code MODE MODEL} loads the model with every layer on Vulkan0 ({@code load-*}: without mmap; {@code *-fallback}:
 * with deviceFallback), creates a context and prints
 * the model's devices and the greedy text as {@code TEXT[...]}, or the exception as {@code EXCEPTION Class: message}.
 */
public final class VulkanMemoryChild {
    private VulkanMemoryChild() {}

    public static void main(String[] args) {
        String mode = args[0];
        ModelParams.Builder params = ModelParams.builder().gpuLayers(ModelParams.ALL_LAYERS).devices("Vulkan0")
                .deviceFallback(mode.endsWith("-fallback"));
        if (mode.startsWith("load-")) {
            params.useMmap(false);
        }
        try (Model m = Model.load(Path.of(args[1]), params.build())) {
            System.out.println("MODEL DEVICES " + m.devices());
            try (Context ctx = m.createContext(ContextParams.builder().contextSize(512).build());
                 Sampler greedy = Sampler.greedy()) {
                System.out.println("TEXT[" + ctx.generate(m.vocabulary().tokenize(VulkanTest.PROMPT, true, true), greedy,
                        VulkanTest.N, null).text() + "]");
            }
        } catch (LlamaException e) {
            System.out.println("EXCEPTION " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
