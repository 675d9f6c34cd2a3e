package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.internal.NativeLibrary;

/**
 * The one GPU artifact, {@code linux-x86_64-gpu} built with {@code -Dllama.backend=gpu} (issue #27): the CPU
 * build plus llama.cpp's Vulkan and CUDA backends, both prebuilt for the pinned release and loaded at run
 * time. ggml loads what this machine can run and the default device choice is CUDA, then Vulkan, then the CPU.
 * Here (CI: no NVIDIA driver, no CUDA 13 runtime, Mesa's lavapipe) CUDA is skipped without a crash and Vulkan
 * is chosen; with the Vulkan driver hidden too, the CPU. On a machine with CUDA, CUDA is chosen. Runs with the
 * Vulkan tests ({@code -Dllama.backend=gpu}); skipped with natives that carry no CUDA backend.
 */
@Tag("vulkan")
class GpuArtifactTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void theGpuArtifact() {
        Llama.init();
        assumeTrue(NativeLibrary.listedBackends().stream().anyMatch(b -> b.contains("ggml-cuda")),
                "natives without a CUDA backend: " + NativeLibrary.listedBackends());
    }

    private static boolean cudaHere() {
        return Llama.devices().stream().anyMatch(d -> "CUDA".equals(d.backend()));
    }

    @Test
    void theArtifactCarriesTheCpuVulkanAndCudaBackendsAndTheirLicence() {
        List<String> listed = NativeLibrary.listedBackends();
        assertTrue(listed.contains("libggml-vulkan.so") && listed.contains("libggml-cuda.so"), listed.toString());
        assertTrue(Llama.backendNames().contains("CPU"), Llama.backendNames().toString());
        assertTrue(Llama.isGpuBuild());
        assertNotNull(GpuArtifactTest.class.getResource("/META-INF/licenses/node-llama-cpp-LICENSE.txt"),
                "node-llama-cpp's licence is in the natives");
    }

    @Test
    void theCudaBackendIsThePinnedReleaseAndItsGgmlImportsAreOurGgmlBase() throws Exception {
        Path lib = Path.of(TestSupport.buildProperties().getProperty("out.dir"), "lib");
        String meta = Files.readString(lib.resolve("ggml-cuda-build.json"));
        String pinned = TestSupport.buildProperties().getProperty("llama.source.id").split(":")[0];
        assertTrue(meta.contains("\"release\":\"" + pinned + "\"") && meta.contains("\"gpu\":\"cuda\""),
                "CUDA, built from " + pinned + ": " + meta);
        Set<String> imports = VulkanTest.symbols(lib.resolve("libggml-cuda.so"), "--undefined-only");
        imports.removeIf(s -> !s.startsWith("ggml_"));
        Set<String> ours = VulkanTest.symbols(lib.resolve("libggml-base.so"), "--defined-only");
        assertTrue(imports.size() > 30, "the CUDA backend imports ggml's API: " + imports);
        Set<String> missing = new TreeSet<>(imports);
        missing.removeAll(ours);
        assertEquals(Set.of(), missing, "every ggml symbol the CUDA backend imports is in our libggml-base.so");
        Set<String> exports = VulkanTest.symbols(lib.resolve("libggml-cuda.so"), "--defined-only");
        assertTrue(exports.contains("ggml_backend_init"), "a ggml dynamic backend (GGML_BACKEND_DL)");
    }

    /** No CUDA runtime or driver: CUDA is skipped (no crash), Vulkan is the default, pinning CUDA says why. */
    @Test
    void withoutTheCudaRuntimeCudaIsSkippedAndTheDefaultIsVulkan() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        if (cudaHere()) {
            // a machine with an NVIDIA GPU, its driver and the CUDA 13 runtime: CUDA first
            try (Model m = Model.load(model, ModelParams.builder().gpuLayers(ModelParams.ALL_LAYERS).build())) {
                assertTrue(!m.devices().isEmpty() && m.devices().stream().allMatch(d -> d.startsWith("CUDA")), m.devices().toString());
            }
            return;
        }
        assertTrue(!Llama.backendNames().contains("CUDA"), Llama.backendNames().toString());
        try (Model m = Model.load(model, ModelParams.builder().gpuLayers(ModelParams.ALL_LAYERS).build())) {
            assertEquals(List.of("Vulkan0"), m.devices(), "CUDA absent: Vulkan is the default");
        }
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> Model.load(model, ModelParams.builder().devices("CUDA").build()));
        assertTrue(e.getMessage().contains("carry the CUDA backend, but it did not load or initialise"), e.getMessage());
        String why = NativeLibrary.whyNotLoaded("cuda");
        if (why != null) {
            // the system's loader names what is missing (libcudart.so.13, libcublas.so.13 or the driver's libcuda.so.1)
            assertTrue(why.contains("libcu") && e.getMessage().contains(why), why + " / " + e.getMessage());
        }
        try (Model m = Model.load(model, ModelParams.builder().devices("CUDA").deviceFallback(true).build())) {
            assertEquals(List.of(), m.devices(), "fallback: the CPU");
        }
    }

    /** No CUDA and the Vulkan driver hidden (in a child JVM): the default is the CPU, with the CPU's text. */
    @Test
    void withoutCudaAndWithoutAVulkanDriverTheDefaultIsTheCpu() throws Exception {
        assumeTrue(!cudaHere(), "CUDA is here");
        Path model = TestSupport.sharedModel("stories260K.gguf");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), VulkanChild.class.getName(), "default", model.toString());
        Path out = Files.createTempFile(tmp, "child", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("VK_ICD_FILENAMES", tmp.resolve("no-such-icd.json").toString());
        Process p = pb.start();
        boolean exited = p.waitFor(180, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(exited, "the child JVM did not exit: " + output);
        assertEquals(0, p.exitValue(), "the child JVM exited normally (no crash): " + output);
        assertTrue(output.contains("devices: [CPU]"), "neither CUDA nor Vulkan: " + output);
        String cpu = VulkanTest.generate(model, ModelParams.builder().devices("CPU").build());
        assertTrue(output.contains("TEXT[" + cpu + "]"), "the CPU's text: " + cpu + "\n" + output);
    }
}
