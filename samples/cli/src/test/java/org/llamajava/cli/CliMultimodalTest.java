package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.multimodal.VisionModels;

/**
 * {@code generate --mmproj FILE --image PATH} and {@code chat --mmproj FILE} with {@code /image
 * PATH}: the same greedy text as llama.cpp's {@code llama-mtmd-cli}, built from the same source, on
 * a random-weight text model and LLaVA-shaped projector (written by the core's test helpers) and a
 * PNG. mtmd-cli formats its prompt with the chatml template; generate is given that same text.
 */
class CliMultimodalTest {
    @TempDir
    static Path tmp;
    static Path text;
    static Path proj;
    static Path png;
    static String oracle;

    @BeforeAll
    static void setUp() throws Exception {
        text = VisionModels.textModel(tmp);
        proj = VisionModels.projector(tmp);
        png = tmp.resolve("image.png");
        Files.write(png, VisionModels.image("png"));
        // read leniently: a random model's text is not always valid UTF-8 (the CLI prints U+FFFD for such bytes)
        // llama.cpp's tools print through a background logging thread that can lose the end of the
        // output at exit: the longest of 5 runs is the oracle (a lost end only ever shortens it)
        oracle = "";
        for (int attempt = 0; attempt < 5; attempt++) {
            org.llamajava.TestSupport.Run r = org.llamajava.TestSupport.runTool("llama-mtmd-cli", "-m", text.toString(),
                    "--mmproj", proj.toString(), "--image", png.toString(), "-p", "Describe this.", "-n", "16", "--temp",
                    "0", "--chat-template", "chatml", "-c", "1024", "-t", "2", "--no-warmup");
            assertEquals(0, r.exitCode(), r.stderr());
            if (r.stdout().strip().length() > oracle.length()) {
                oracle = r.stdout().strip();
            }
        }
    }

    @Test
    void generateWithAnImageMatchesMtmdCli() {
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "generate", "-m", text.toString(), "--mmproj",
                proj.toString(), "--image", png.toString(), "-p",
                "<|im_start|>user\\n<__media__>Describe this.<|im_end|>\\n<|im_start|>assistant\\n", "-n", "16",
                "--temp", "0", "-c", "1024", "-t", "2", "--no-mmproj-offload");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(oracle, r.stdout().strip(), r.toString());
        assertTrue(r.stderr().contains("64 image tokens"), r.toString());
    }

    @Test
    void chatWithSlashImageMatchesMtmdCli() {
        CliTestSupport.Result r = CliTestSupport.runCliWithInput(tmp, "/image " + png + "\nDescribe this.\n", "chat",
                "-m", text.toString(), "--mmproj", proj.toString(), "--chat-template", "chatml", "-n", "16",
                "--temp", "0", "-c", "1024", "-t", "2");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(oracle, r.stdout().strip(), r.toString());
        assertTrue(r.stderr().contains("attached (64 tokens)"), r.toString());
    }

    @Test
    void misuse() {
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "generate", "-m", text.toString(), "--image",
                png.toString(), "-p", "x");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.stderr().contains("--mmproj"), r.toString());
        r = CliTestSupport.runCliWithInput(tmp, "/image " + png + "\n", "chat", "-m", text.toString(), "-n", "2");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("needs the model's projector"), r.toString());
    }
}
