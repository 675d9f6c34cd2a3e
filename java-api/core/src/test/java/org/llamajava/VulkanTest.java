package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.internal.NativeLog;
import org.llamajava.quantize.Quantizer;

/**
 * The linux-x86_64-vulkan natives (issue #27) on a Vulkan device: in CI, Mesa's software Vulkan
 * (lavapipe, with {@code GGML_VK_VISIBLE_DEVICES=0}, since ggml skips CPU-type Vulkan devices unless
 * told). The oracle is llama.cpp's own tools from the same build, which load the same Vulkan backend
 * from beside them: greedy text equals {@code llama-simple -ngl N} token for token, with every layer
 * and with two layers on Vulkan0. Device listing, pinning and fallback are checked against llama.cpp's
 * load log (where each layer went). Runs in the {@code vulkan} profile only ({@code -Dllama.backend=vulkan},
 * which also sets {@code llama.require.vulkan}: without a Vulkan device it fails rather than skips).
 */
@Tag("vulkan")
class VulkanTest {
    static final String PROMPT = "Once upon a time";
    static final int N = 24;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void vulkanDevicePresent() {
        boolean present = Llama.devices().stream().anyMatch(d -> "Vulkan".equals(d.backend()));
        if (!present && Boolean.getBoolean("llama.require.vulkan")) {
            fail("no Vulkan device: backends " + Llama.backendNames() + ", devices " + Llama.devices()
                    + " (lavapipe needs mesa-vulkan-drivers and GGML_VK_VISIBLE_DEVICES=0)");
        }
        assumeTrue(present, "no Vulkan device here");
    }

    // ---- the prebuilt backend is the pinned release, and links against our ggml-base -----------------

    @Test
    void theVulkanBackendIsThePinnedReleaseAndItsGgmlImportsAreOurGgmlBase() throws Exception {
        Path lib = Path.of(TestSupport.buildProperties().getProperty("out.dir"), "lib");
        String meta = Files.readString(lib.resolve("ggml-vulkan-build.json"));
        String pinned = TestSupport.buildProperties().getProperty("llama.source.id").split(":")[0];
        assertTrue(meta.contains("\"release\":\"" + pinned + "\""), "built from " + pinned + ": " + meta);
        Set<String> imports = symbols(lib.resolve("libggml-vulkan.so"), "--undefined-only");
        imports.removeIf(s -> !s.startsWith("ggml_"));
        Set<String> ours = symbols(lib.resolve("libggml-base.so"), "--defined-only");
        assertTrue(imports.size() > 30, "the Vulkan backend imports ggml's API: " + imports);
        Set<String> missing = new TreeSet<>(imports);
        missing.removeAll(ours);
        assertEquals(Set.of(), missing, "every ggml symbol the Vulkan backend imports is in our libggml-base.so");
        // ggml_backend_load() checked its GGML_BACKEND_API_VERSION against ours before registering it
        assertTrue(Llama.backendNames().contains("Vulkan"), "registered: " + Llama.backendNames());
        assertTrue(Llama.isGpuBuild());
    }

    /** The dynamic symbols of {@code lib} that {@code nm -D which} lists (e.g. {@code --defined-only}). */
    static Set<String> symbols(Path lib, String which) throws Exception {
        Process p = new ProcessBuilder("nm", "-D", which, lib.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "nm failed: " + out);
        Set<String> names = new TreeSet<>();
        for (String line : out.split("\\R")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2) {
                names.add(f[f.length - 1].replaceAll("@.*", ""));
            }
        }
        return names;
    }

    // ---- devices ------------------------------------------------------------------------------------

    @Test
    void devicesListTheVulkanDeviceWithItsBackendAndMemory() {
        Device vk = Llama.devices().stream().filter(d -> d.name().equals("Vulkan0")).findFirst().orElseThrow();
        assertEquals("Vulkan", vk.backend());
        assertTrue(vk.isGpu(), vk.toString());
        assertTrue(vk.memoryTotal() > 0 && vk.memoryFree() > 0, vk.toString());
        assertFalse(vk.description().isBlank());
        Device cpu = Llama.devices().stream().filter(d -> d.type() == Device.Type.CPU).findFirst().orElseThrow();
        assertEquals("CPU", cpu.backend());
    }

    @Test
    void aModelSaysWhichDevicesItsLayersWentTo() {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        try (Model m = Model.load(model, ModelParams.builder().gpuLayers(ModelParams.ALL_LAYERS).devices("Vulkan0").build())) {
            assertEquals(List.of("Vulkan0"), m.devices());
        }
        try (Model m = Model.load(model, ModelParams.builder().gpuLayers(ModelParams.ALL_LAYERS).devices("CPU").build())) {
            assertEquals(List.of(), m.devices());
        }
        try (Model m = Model.load(model, ModelParams.builder().gpuLayers(0).build())) {
            assertEquals(List.of(), m.devices());
        }
    }

    // ---- parity with llama.cpp on the same Vulkan device ----------------------------------------------

    @Test
    void stories260kOnVulkanEqualsLlamaSimpleNgl99() throws Exception {
        assertMatchesLlamaSimple(TestSupport.sharedModel("stories260K.gguf"), 99, ModelParams.builder().devices("Vulkan0"));
    }

    @Test
    void aQ4_0ModelWrittenAndQuantizedHereOnVulkanEqualsLlamaSimpleNgl99() throws Exception {
        Path f32 = tmp.resolve("vk-f32.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(11).scale(4f).write(f32);
        Path q4 = tmp.resolve("vk-q4_0.gguf");
        Quantizer.builder("Q4_0").threads(2).build().quantize(f32, q4);
        assertMatchesLlamaSimple(q4, 99, ModelParams.builder().devices("Vulkan"));
    }

    /**
     * Two layers on Vulkan0, the rest on the CPU: llama.cpp's {@code llama-completion -ngl 2 -dev Vulkan0} (greedy, one
     * thread: llama-simple's four threads crawl where layers run on two busy cores).
     */
    @Test
    void partialOffloadOfTwoLayersEqualsLlamaCompletionNgl2() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        // -dev: llama-completion loads dynamic backends only when asked for a device (in a build with the CPU
        // backend linked in, llama_backend_init finds a backend registered and loads none)
        String expected = TestSupport.llamaCompletionText(model, PROMPT, N, "-ngl", "2", "-dev", "Vulkan0");
        List<String> log = new ArrayList<>();
        String text = capture(log, () -> generate(model, ModelParams.builder().gpuLayers(2).build()));
        assertEquals(expected, text, "llama-completion -ngl 2");
        assertTrue(log.stream().anyMatch(l -> l.contains("offloaded 2/")), "two layers offloaded: " + offloadLines(log));
        assertTrue(log.stream().anyMatch(l -> l.contains("assigned to device Vulkan0")), offloadLines(log));
        assertTrue(log.stream().anyMatch(l -> l.matches(".*layer +0 assigned to device CPU.*")), offloadLines(log));
    }

    @Test
    void theDefaultChoiceWithoutCudaIsVulkan() throws Exception {
        // the gpu natives on a machine with CUDA choose CUDA (GpuArtifactTest); CUDA_VISIBLE_DEVICES= hides it
        assumeTrue(Llama.devices().stream().noneMatch(d -> "CUDA".equals(d.backend())), "CUDA is here");
        assertMatchesLlamaSimple(TestSupport.sharedModel("stories260K.gguf"), 99, ModelParams.builder());
    }

    /** Greedy text equals llama-simple's with {@code -ngl ngl}, and the load log puts the layers where asked. */
    private static List<String> assertMatchesLlamaSimple(Path model, int ngl, ModelParams.Builder params) throws Exception {
        TestSupport.Run oracle = TestSupport.runTool("llama-simple", "-m", model.toString(), "-n", Integer.toString(N),
                "-ngl", Integer.toString(ngl), PROMPT);
        assertEquals(0, oracle.exitCode(), "llama-simple failed: " + oracle.stderr());
        assertTrue(oracle.stderr().contains("assigned to device Vulkan0"), "llama-simple ran on Vulkan0");
        List<String> log = new ArrayList<>();
        String text = capture(log, () -> simpleOutput(model, params.gpuLayers(ngl == 99 ? ModelParams.ALL_LAYERS : ngl).build()));
        // llama-simple prints each piece with printf("%s"): a piece "\0" (byte-fallback token <0x00>) prints as nothing
        assertEquals(oracle.stdout(), text.replace("\0", ""), "llama-simple -ngl " + ngl + " on Vulkan0");
        assertTrue(log.stream().anyMatch(l -> l.contains("assigned to device Vulkan0")), "layers on Vulkan0: " + offloadLines(log));
        if (ngl == 99) {
            Matcher m = Pattern.compile("offloaded (\\d+)/(\\d+) layers to GPU").matcher(String.join("\n", log));
            assertTrue(m.find() && m.group(1).equals(m.group(2)), "every layer offloaded: " + offloadLines(log));
        }
        return log;
    }

    /** What llama-simple prints: the prompt's pieces, the greedy continuation, a newline. */
    static String simpleOutput(Path model, ModelParams params) {
        try (Model m = Model.load(model, params);
             Context ctx = m.createContext(ContextParams.builder().contextSize(512).build());
             Sampler greedy = Sampler.greedy()) {
            int[] prompt = m.vocabulary().tokenize(PROMPT, true, true);
            Completion c = ctx.generate(prompt, greedy, N, null);
            StringBuilder pieces = new StringBuilder();
            for (int t : prompt) {
                pieces.append(m.vocabulary().tokenPiece(t));
            }
            return pieces + c.text() + "\n";
        }
    }

    @Test
    void fourSequencesInTheBatchingEngineOnVulkanEqualEachAlone() throws Exception {
        List<String> prompts = List.of("Once upon a time", "Lily and Tom went to the park", "The dog", "One day, a little");
        try (Model model = Model.load(TestSupport.sharedModel("stories260K.gguf"), ModelParams.builder().devices("Vulkan").build())) {
            List<int[]> alone = new ArrayList<>();
            for (String p : prompts) {
                try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
                     Sampler greedy = Sampler.greedy()) {
                    alone.add(ctx.newSequence().generate(model.vocabulary().tokenize(p, true, true), greedy,
                            GenerateOptions.maxTokens(16)).tokens());
                }
            }
            try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(4).contextSize(1024).build())) {
                List<java.util.concurrent.CompletableFuture<Completion>> futures = new ArrayList<>();
                for (String p : prompts) {
                    futures.add(engine.submit(new BatchRequest(model.vocabulary().tokenize(p, true, true),
                            Sampler.builder().greedy(), GenerateOptions.maxTokens(16))).completion());
                }
                for (int i = 0; i < prompts.size(); i++) {
                    assertArrayEquals(alone.get(i), futures.get(i).get(120, TimeUnit.SECONDS).tokens(), prompts.get(i));
                }
            }
        }
    }

    // ---- pinning, unknown devices, fallback -----------------------------------------------------------

    @Test
    void pinningTheCpuKeepsEveryLayerOffVulkan() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        String expected = TestSupport.llamaCompletionText(model, PROMPT, N, "-ngl", "0");
        List<String> log = new ArrayList<>();
        String text = capture(log, () -> generate(model, ModelParams.builder().devices("CPU").build()));
        assertTrue(log.stream().noneMatch(l -> l.contains("assigned to device Vulkan")), offloadLines(log));
        assertTrue(log.stream().anyMatch(l -> l.contains("assigned to device CPU")), offloadLines(log));
        assertEquals(expected, text, "the CPU's text (llama-completion -ngl 0)");
    }

    @Test
    void aDeviceOrBackendThatIsNotHereIsAClearErrorOrTheCpuWhenAskedFor() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> Model.load(model, ModelParams.builder().devices("Vulkan7").build()));
        assertTrue(e.getMessage().contains("'Vulkan7'") && e.getMessage().contains("Vulkan0 (Vulkan)")
                && e.getMessage().contains("no such device"), e.getMessage());
        assumeTrue(Llama.devices().stream().noneMatch(d -> "CUDA".equals(d.backend())), "CUDA is here");
        e = assertThrows(DeviceUnavailableException.class, () -> Model.load(model, ModelParams.builder().devices("CUDA").build()));
        // the vulkan natives have no CUDA backend; the gpu natives carry one that did not load here
        assertTrue(e.getMessage().contains("no such backend") || e.getMessage().contains("did not load or initialise"),
                e.getMessage());
        List<String> log = new ArrayList<>();
        String text = capture(log, () -> generate(model, ModelParams.builder().devices("CUDA").deviceFallback(true).build()));
        assertTrue(log.stream().noneMatch(l -> l.contains("assigned to device Vulkan")), offloadLines(log));
        assertFalse(text.isEmpty());
    }

    /** No Vulkan driver (the ICD hidden with VK_ICD_FILENAMES): the clear error, or the CPU when asked for. */
    @Test
    void withoutAVulkanDriverPinningVulkanFailsClearlyOrFallsBackToTheCpu() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        Map<String, String> noDriver = Map.of("VK_ICD_FILENAMES", tmp.resolve("no-such-icd.json").toString());
        String strict = child(noDriver, "strict", model);
        assertTrue(strict.contains("DeviceUnavailableException") && strict.contains("'Vulkan'")
                && strict.contains("did not load or initialise"), strict);
        assertTrue(strict.contains("devices: [CPU]"), "no Vulkan device without the driver: " + strict);
        String fallback = child(noDriver, "fallback", model);
        String cpu = generate(model, ModelParams.builder().devices("CPU").build());
        assertTrue(fallback.contains("TEXT[" + cpu + "]"), "the CPU's text: " + cpu + "\n" + fallback);
        String byDefault = child(noDriver, "default", model);
        assertTrue(byDefault.contains("TEXT[" + cpu + "]"), "the default choice runs on the CPU: " + byDefault);
    }

    static String generate(Path model, ModelParams params) {
        try (Model m = Model.load(model, params);
             Context ctx = m.createContext(ContextParams.builder().contextSize(512).build());
             Sampler greedy = Sampler.greedy()) {
            return ctx.generate(m.vocabulary().tokenize(PROMPT, true, true), greedy, N, null).text();
        }
    }

    private static String child(Map<String, String> env, String mode, Path model) throws IOException, InterruptedException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), VulkanChild.class.getName(), mode, model.toString());
        Path out = Files.createTempFile(tmp, "child", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(env);
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

    // ---- llama.cpp's load log -----------------------------------------------------------------------

    interface Body<T> {
        T run() throws Exception;
    }

    /** Runs {@code body} with llama.cpp's log lines collected into {@code lines}. */
    static <T> T capture(List<String> lines, Body<T> body) throws Exception {
        Logger jul = Logger.getLogger(NativeLog.LOGGER);
        Level old = jul.getLevel();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (lines) {
                    lines.add(r.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        jul.setLevel(Level.ALL);
        jul.addHandler(h);
        try {
            return body.run();
        } finally {
            jul.removeHandler(h);
            jul.setLevel(old);
        }
    }

    static String offloadLines(List<String> log) {
        return String.join("\n", log.stream().filter(l -> l.contains("offload") || l.contains("assigned to device")).toList());
    }
}
