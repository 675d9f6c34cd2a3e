package org.llamajava.embed;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llamajava.Llama;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.TestSupport;

/**
 * Embeddings of the two real embedding models with every layer on the Vulkan device equal
 * llama.cpp's {@code llama-embedding -ngl 99 -dev Vulkan0} on the same device (same build, same Vulkan backend)
 * within 1e-4 per component. Runs in the {@code vulkan} profile only, as {@code VulkanTest}.
 */
@Tag("vulkan")
class VulkanEmbeddingTest {
    @BeforeAll
    static void vulkanDevicePresent() {
        boolean present = Llama.devices().stream().anyMatch(d -> "Vulkan".equals(d.backend()));
        if (!present && Boolean.getBoolean("llama.require.vulkan")) {
            fail("no Vulkan device: " + Llama.devices());
        }
        assumeTrue(present, "no Vulkan device here");
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2-f16.gguf", "bge-small-en-v1.5-f16.gguf"})
    void embeddingsOnVulkanEqualLlamaEmbeddingNgl99(String name) throws Exception {
        Path file = TestSupport.sharedModel(name);
        List<String> texts = EmbedderOracleTest.TEXTS.subList(0, 5);
        List<String> log = new ArrayList<>();
        // -dev: llama.cpp's common tools load dynamic backends only when asked for a device; -v logs where it went
        List<float[]> expected = EmbeddingOracle.run(file, texts, log::add, "-ngl", "99", "-dev", "Vulkan0", "-v");
        assertTrue(log.get(0).contains("using device Vulkan0"), "llama-embedding ran on Vulkan0");
        try (Model model = Model.load(file, ModelParams.builder().devices("Vulkan0").build());
             Embedder embedder = Embedder.create(model, EmbedderParams.builder().threads(2).build())) {
            EmbeddingOracle.assertVectorsEqual(expected, embedder.embedAll(texts), EmbedderOracleTest.TOLERANCE,
                    name + " on Vulkan0");
        }
    }
}
