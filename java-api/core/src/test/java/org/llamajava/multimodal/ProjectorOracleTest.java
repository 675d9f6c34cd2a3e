package org.llamajava.multimodal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;

/**
 * An image through the Java API against llama.cpp's own {@code llama-mtmd-cli}, built from the
 * same source, on the same random-weight text model, random-weight LLaVA-shaped projector and
 * PNG: the same greedy text. mtmd-cli puts the media marker before the prompt and formats it with
 * the chatml template; the Java side sends that same prompt text.
 */
class ProjectorOracleTest {
    @TempDir
    static Path tmp;

    static String chatml(String user) {
        return "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
    }

    @Test
    void greedyTextMatchesMtmdCliForPngAndJpeg() throws Exception {
        String png = greedyTextMatchesMtmdCli("png");
        String jpeg = greedyTextMatchesMtmdCli("jpeg");
        assertFalse(png.isBlank());
        System.out.println("png: " + png + "\njpeg: " + jpeg);
    }

    @Test
    void theImageChangesTheText() throws Exception {
        // the same prompt with the image's colors inverted: the embeddings, so the text, differ
        String a = greedyTextMatchesMtmdCli("png");
        String b = greedyTextMatchesMtmdCli("inverted.png");
        assertNotEquals(a, b, "the image had no effect on the generated text");
    }

    private static String greedyTextMatchesMtmdCli(String format) throws Exception {
        Path text = VisionModels.textModel(tmp);
        Path proj = VisionModels.projector(tmp);
        Path png = tmp.resolve("gradient." + format);
        Files.write(png, format.startsWith("inverted") ? VisionModels.invertedImage() : VisionModels.image(format));
        int n = 24;
        List<String> oracleArgs = List.of("-m", text.toString(), "--mmproj", proj.toString(),
                "--image", png.toString(), "-p", "Describe this.", "-n", Integer.toString(n), "--temp", "0",
                "--chat-template", "chatml", "-c", "1024", "-t", "2", "--no-warmup");

        try (Model model = Model.load(text);
             Projector projector = Projector.load(proj, model, ProjectorParams.defaults().withGpu(false).withThreads(2));
             Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
             Sequence seq = ctx.newSequence();
             Sampler greedy = Sampler.greedy()) {
            Media image = Media.file(png);
            int expectedTokens = (112 / VisionModels.PATCH) * (112 / VisionModels.PATCH);
            assertEquals(expectedTokens, projector.countTokens(image), "image tokens: (image_size / patch_size)^2");
            Completion c = projector.generate(seq, chatml(Projector.marker() + "Describe this."), List.of(image), greedy,
                    GenerateOptions.maxTokens(n));
            assertEquals(expectedTokens, c.mediaTokens());
            assertTrue(c.tokenCount() > 0);
            // llama.cpp's tools print through a background logging thread that can lose the end of
            // the output at exit: a shorter oracle text is run again (up to 5 times), never accepted
            TestSupport.Run oracle = null;
            String best = null;
            for (int attempt = 0; attempt < 5; attempt++) {
                oracle = TestSupport.runTool("llama-mtmd-cli", oracleArgs.toArray(String[]::new));
                assertEquals(0, oracle.exitCode(), "llama-mtmd-cli failed: " + oracle.stderr());
                String out = oracle.stdout().strip();
                if (best == null || out.length() > best.length()) {
                    best = out;
                }
                if (best.equals(c.text().strip())) {
                    break;
                }
            }
            assertEquals(best, c.text().strip(),
                    "Java's greedy text differs from llama-mtmd-cli's; its stderr:\n" + oracle.stderr());
            return c.text();
        }
    }
}
