package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GPU out of memory for what was asked (issue #27): a clear exception, or the fallback the user asked for,
 * never a crash. On lavapipe (2 GiB device heap and largest allocation) a KV cache past the device's memory
 * does not fail its allocation: ggml's scheduler aborts the process ("pre-allocated tensor (cache_k_l0) in a
 * buffer (Vulkan0) that cannot run the operation"), as {@code llama-completion -ngl 99 -c 3400000} does on
 * stories260K. So the Context checks the KV cache's size against the devices' free memory before calling
 * llama.cpp: a {@link DeviceUnavailableException}, or with {@link ModelParams.Builder#deviceFallback(boolean)}
 * the KV cache in host memory.
 */
@Tag("vulkan")
class VulkanMemoryTest {
    // stories260K: 5 layers, 4 KV heads of 8: 640 bytes of F16 KV cache a token; lavapipe's 2048 MiB hold 3.36M tokens
    static final int TOO_MANY_TOKENS = 3_400_000;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void vulkanDevicePresent() {
        VulkanTest.vulkanDevicePresent();
    }

    private static Device vulkan0() {
        return Llama.devices().stream().filter(d -> d.name().equals("Vulkan0")).findFirst().orElseThrow();
    }

    @Test
    void aKvCacheBeyondTheDevicesMemoryIsAClearErrorAndTheModelStillWorks() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        long tokens = vulkan0().memoryFree() / 640 + 50_000; // just past the device's memory, whatever it reports
        assumeTrue(tokens < Integer.MAX_VALUE, "a device with " + vulkan0().memoryFree() + " bytes free");
        try (Model m = Model.load(model, ModelParams.builder().gpuLayers(ModelParams.ALL_LAYERS).devices("Vulkan0").build())) {
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                    () -> m.createContext(ContextParams.builder().contextSize((int) tokens).build()).close());
            assertTrue(e.getMessage().contains("KV cache of a " + tokens + "-token context")
                    && e.getMessage().contains("does not fit the free memory of Vulkan0")
                    && e.getMessage().contains("deviceFallback(true)"), e.getMessage());
            // a quantized cache of the same length fits (Q4_0: 4.5 bits instead of 16): the estimate follows the types
            assertNull(Context.kvCacheBeyondDeviceMemory(m, tokens, ContextParams.builder().contextSize((int) tokens)
                    .kvCacheType(KvCacheType.Q4_0).build()));
            // the model is unharmed: a context that fits runs on Vulkan0
            try (Context ctx = m.createContext(ContextParams.builder().contextSize(512).build());
                 Sampler greedy = Sampler.greedy()) {
                assertFalse(ctx.generate(m.vocabulary().tokenize(VulkanTest.PROMPT, true, true), greedy, 8, null).text().isEmpty());
            }
        }
    }

    @Test
    void theCheckIsOnlyForOffloadedLayers() {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        ContextParams huge = ContextParams.builder().contextSize(TOO_MANY_TOKENS).build();
        try (Model cpu = Model.load(model, ModelParams.builder().devices("CPU").build())) {
            assertNull(Context.kvCacheBeyondDeviceMemory(cpu, TOO_MANY_TOKENS, huge), "no device, no check");
        }
        try (Model two = Model.load(model, ModelParams.builder().gpuLayers(2).devices("Vulkan0").build())) {
            // two of five layers' cache: 2/5 of the whole, 1.3 GB of lavapipe's 2 GiB
            assertNull(Context.kvCacheBeyondDeviceMemory(two, TOO_MANY_TOKENS, huge));
        }
    }

    /**
     * With deviceFallback the KV cache goes to host memory (llama.cpp's offload_kqv off) and the context runs;
     * this allocates the 2.2 GB cache in host memory for a moment (a small batch keeps the compute buffers small).
     */
    @Test
    void withFallbackTheKvCacheGoesToHostMemory() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        assumeTrue(vulkan0().memoryFree() <= (2L << 30), "lavapipe's 2 GiB (the host memory this test takes)");
        List<String> log = new ArrayList<>();
        String text = VulkanTest.capture(log, () -> {
            try (Model m = Model.load(model, ModelParams.builder().gpuLayers(ModelParams.ALL_LAYERS).devices("Vulkan0")
                    .deviceFallback(true).build());
                 Context ctx = m.createContext(ContextParams.builder().contextSize(TOO_MANY_TOKENS).batchSize(16).ubatchSize(16)
                         .flashAttention(FlashAttention.ENABLED).build());
                 Sampler greedy = Sampler.greedy()) {
                assertEquals(List.of("Vulkan0"), m.devices(), "the layers stay on Vulkan0");
                return ctx.generate(m.vocabulary().tokenize(VulkanTest.PROMPT, true, true), greedy, 8, null).text();
            }
        });
        assertFalse(text.isEmpty());
        assertTrue(log.stream().anyMatch(l -> l.contains("llama_kv_cache") && l.contains("CPU KV buffer size")),
                "the KV cache in host memory: " + String.join("\n", log.stream().filter(l -> l.contains("KV")).toList()));
        assertTrue(log.stream().noneMatch(l -> l.contains("Vulkan0 KV buffer size")), "no KV cache on Vulkan0");
    }

    /**
     * A device allocation that really fails, in a child JVM with ggml's largest Vulkan allocation capped at 8 KiB
     * (GGML_VK_FORCE_MAX_ALLOCATION_SIZE and _BUFFER_SIZE; on lavapipe the KV cache then gets
     * ErrorOutOfDeviceMemory and llama.cpp fails the context cleanly): the weights, too large for one allocation,
     * stay in host memory (llama.cpp's choice, with or without mmap, so the load succeeds), the KV cache cannot be
     * allocated on Vulkan0, and the context is a DeviceUnavailableException, or with fallback has its KV cache in
     * host memory and gives the CPU's text; no JVM crashes.
     */
    @Test
    void aDeviceAllocationThatFailsIsAClearErrorOrTheFallbackAndNeverACrash() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        String cpu = VulkanTest.generate(model, ModelParams.builder().devices("CPU").build());
        String context = child("context-strict", model);
        assertTrue(context.contains("MODEL DEVICES [Vulkan0]")
                && context.contains("EXCEPTION DeviceUnavailableException: failed to create a context")
                && context.contains("with its KV cache on Vulkan0") && context.contains("deviceFallback(true)"), context);
        String contextFallback = child("context-fallback", model);
        assertTrue(contextFallback.contains("TEXT[" + cpu + "]"), contextFallback);
    }

    private static String child(String mode, Path model) throws IOException, InterruptedException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), VulkanMemoryChild.class.getName(), mode, model.toString());
        Path out = Files.createTempFile(tmp, "child", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(Map.of("GGML_VK_FORCE_MAX_ALLOCATION_SIZE", "8192", "GGML_VK_FORCE_MAX_BUFFER_SIZE", "8192"));
        Process p = pb.start();
        boolean exited = p.waitFor(180, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(exited, "the child JVM did not exit: " + output);
        assertEquals(0, p.exitValue(), "the child JVM exited normally (no crash): " + output);
        return output;
    }
}
