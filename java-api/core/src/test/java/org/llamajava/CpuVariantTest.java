package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;

/**
 * In a distributable build (ggml-backends.txt lists CPU variants) the variant ggml chose is one of
 * them and {@link Llama#systemInfo()} names it; in a host-native build there is none.
 */
class CpuVariantTest {

    private static List<String> listedBackends() throws IOException {
        try (InputStream in = Llama.class.getResourceAsStream("/org/llamajava/bindings/" + Loader.getPlatform() + "/ggml-backends.txt")) {
            return in == null ? List.of()
                    : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        }
    }

    @Test
    void theChosenVariantIsReported() throws IOException {
        List<String> cpuVariants = listedBackends().stream().filter(b -> b.contains("ggml-cpu-")).toList();
        String info = Llama.systemInfo();
        if (cpuVariants.isEmpty()) {
            assertTrue(Llama.cpuVariant().isEmpty(), "a host-native build has no variant: " + Llama.cpuVariant());
            assertFalse(info.contains("CPU_VARIANT"), info);
        } else {
            String variant = Llama.cpuVariant().orElseThrow(() -> new AssertionError("no CPU variant reported; listed: " + cpuVariants));
            assertTrue(cpuVariants.stream().anyMatch(b -> b.matches("(lib)?ggml-cpu-" + java.util.regex.Pattern.quote(variant) + "\\.(so|dylib|dll)")),
                    variant + " is not one of " + cpuVariants);
            assertTrue(info.endsWith("CPU_VARIANT = " + variant + " | "), info);
        }
    }

    @Test
    void theLoadersLineIsParsed() {
        String before = Llama.cpuVariant().orElse(null);
        try {
            Llama.noteBackendLoaded("load_backend: loaded CUDA backend from /tmp/x/libggml-cuda.so");
            assertEquals(before, Llama.cpuVariant().orElse(null), "not a CPU backend");
            Llama.noteBackendLoaded("load_backend: loaded CPU backend from /root/.javacpp/cache/a/libggml-cpu-armv8.2_1.so");
            assertEquals("armv8.2_1", Llama.cpuVariant().orElseThrow());
            Llama.noteBackendLoaded("load_backend: loaded CPU backend from C:\\\\cache\\\\ggml-cpu-haswell.dll");
            assertEquals("haswell", Llama.cpuVariant().orElseThrow());
        } finally {
            Llama.restoreCpuVariantForTests(before);
        }
    }
}
