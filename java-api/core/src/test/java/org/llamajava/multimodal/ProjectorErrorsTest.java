package org.llamajava.multimodal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Context;
import org.llamajava.ContextOverflowException;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.LlamaException;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;

/** Misuse and bad input: clear exceptions, checked before native code would abort or misbehave. */
class ProjectorErrorsTest {
    @TempDir
    static Path tmp;
    static Model model;
    static Projector projector;

    @BeforeAll
    static void load() {
        model = Model.load(VisionModels.textModel(tmp));
        projector = Projector.load(VisionModels.projector(tmp), model,
                ProjectorParams.defaults().withGpu(false).withThreads(2).withWarmup(false));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void aProjectorForAnotherModelIsRefused() {
        Path wrong = VisionModels.projector(tmp, 112, VisionModels.textEmbedding() + 16);
        LlamaException e = assertThrows(LlamaException.class, () -> Projector.load(wrong, model));
        assertTrue(e.getMessage().contains("n_embd"), e.getMessage());
        assertTrue(e.getMessage().contains(Integer.toString(VisionModels.textEmbedding() + 16)), e.getMessage());
    }

    @Test
    void aFileThatIsNotGgufIsALlamaException() throws Exception {
        Path text = java.nio.file.Files.writeString(tmp.resolve("mmproj.gguf"), "not a GGUF file");
        LlamaException e = assertThrows(LlamaException.class, () -> Projector.load(text, model));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
        assertThrows(LlamaException.class, () -> Projector.load(tmp.resolve("missing-mmproj.gguf"), model));
    }

    @Test
    void aModelIsNotAProjector() {
        LlamaException e = assertThrows(LlamaException.class, () -> Projector.load(model.path(), model));
        assertTrue(e.getMessage().contains("not a multimodal projector"), e.getMessage());
    }

    @Test
    void unsupportedMediaTypes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Media.bytes("just some text".getBytes()));
        assertTrue(e.getMessage().contains("unsupported media type"), e.getMessage());
        byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes();
        assertThrows(IllegalArgumentException.class, () -> Media.bytes(webp));
        Media audio = Media.pcm(new float[16000]);
        e = assertThrows(IllegalArgumentException.class, () -> projector.countTokens(audio));
        assertTrue(e.getMessage().contains("takes only images"), e.getMessage());
        assertEquals(-1, projector.audioSampleRate());
        assertTrue(projector.supportsVision());
    }

    @Test
    void corruptImages() {
        byte[] png = VisionModels.image("png");
        byte[] truncated = Arrays.copyOf(png, png.length / 3);
        LlamaException e = assertThrows(LlamaException.class, () -> projector.countTokens(Media.bytes(truncated)));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        byte[] garbage = Arrays.copyOf(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2, 3}, 4096);
        assertThrows(LlamaException.class, () -> projector.countTokens(Media.bytes(garbage)));
    }

    @Test
    void markersMustMatchTheMedia() {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).build());
             Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            Media image = Media.bytes(VisionModels.image("png"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> projector.generate(seq, "no marker here", List.of(image), greedy, GenerateOptions.maxTokens(1)));
            assertTrue(e.getMessage().contains("markers"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> projector.generate(seq, "ends with " + Projector.marker(),
                    List.of(image), greedy, GenerateOptions.maxTokens(1)));
            assertEquals(0, seq.length());
        }
    }

    @Test
    void anImageTooLargeForTheContextIsRefusedBeforeEvaluating() {
        // LLaVA-1.5's real image size: 336 / 14 = 24, so 576 image tokens, in a 512-token context
        try (Projector large = Projector.load(VisionModels.projector(tmp, 336, VisionModels.textEmbedding()), model,
                ProjectorParams.defaults().withGpu(false).withThreads(2).withWarmup(false));
             Context ctx = model.createContext(ContextParams.builder().contextSize(512).build());
             Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            seq.append(model.vocabulary().tokenize("Once upon", true, false));
            int held = seq.length();
            Media image = Media.bytes(VisionModels.image("png"));
            assertEquals(576, large.countTokens(image));
            ContextOverflowException e = assertThrows(ContextOverflowException.class, () -> large.generate(seq,
                    Projector.marker() + "Describe.", List.of(image), greedy, GenerateOptions.maxTokens(1)));
            assertTrue(e.getMessage().contains("576 of them image"), e.getMessage());
            assertEquals(held, seq.length(), "the sequence was changed");
        }
    }

    @Test
    void closingTheModelClosesItsProjector() {
        Model m = Model.load(VisionModels.textModel(tmp));
        Projector p = Projector.load(VisionModels.projector(tmp), m,
                ProjectorParams.defaults().withGpu(false).withThreads(1).withWarmup(false));
        m.close();
        assertTrue(p.isClosed());
        assertThrows(IllegalStateException.class, () -> p.countTokens(Media.bytes(VisionModels.image("png"))));
        p.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> Projector.load(VisionModels.projector(tmp), m));
    }

    @Test
    void theModelCannotBeClosedFromInsideAGenerationWithAnImage() {
        Model m = Model.load(VisionModels.textModel(tmp));
        try (Projector p = Projector.load(VisionModels.projector(tmp), m,
                ProjectorParams.defaults().withGpu(false).withThreads(1).withWarmup(false));
             Context ctx = m.createContext(ContextParams.builder().contextSize(512).build());
             Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            java.util.concurrent.atomic.AtomicReference<RuntimeException> failure = new java.util.concurrent.atomic.AtomicReference<>();
            p.generate(seq, Projector.marker() + "Describe.", List.of(Media.bytes(VisionModels.image("png"))), greedy,
                    GenerateOptions.builder().maxTokens(2).onText(t -> {
                        try {
                            m.close();
                        } catch (RuntimeException e) {
                            failure.set(e);
                        }
                    }).build());
            assertTrue(failure.get() instanceof IllegalStateException, String.valueOf(failure.get()));
            assertTrue(!p.isClosed() && !m.isClosed());
        } finally {
            m.close();
        }
    }

    @Test
    void aSequenceOfAnotherModelIsRefused() {
        try (Model other = Model.load(VisionModels.textModel(tmp));
             Context ctx = other.createContext(ContextParams.builder().contextSize(256).build());
             Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            assertThrows(IllegalArgumentException.class, () -> projector.generate(seq, "text", List.of(), greedy,
                    GenerateOptions.maxTokens(1)));
        }
    }

    /**
     * Random mutations of valid PNG and JPEG files (bit flips, byte overwrites, truncations,
     * spliced chunks) through mtmd's stb_image decoding and preprocessing, in this JVM: each
     * decodes or throws LlamaException; none crashes the process.
     */
    @Test
    void fuzzedImagesOnlyThrow() throws Exception {
        SplittableRandom r = new SplittableRandom(18);
        byte[][] seeds = {VisionModels.image("png"), VisionModels.image("jpeg"), VisionModels.image("gif"),
                VisionModels.image("bmp")};
        int decoded = 0;
        int refused = 0;
        int n = Integer.getInteger("llama.fuzz.images", 400);
        for (int i = 0; i < n; i++) {
            byte[] b = seeds[i % seeds.length].clone();
            int edits = 1 + r.nextInt(8);
            for (int k = 0; k < edits; k++) {
                switch (r.nextInt(4)) {
                    case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                    case 2 -> b = Arrays.copyOf(b, Math.max(8, r.nextInt(b.length)));
                    default -> {
                        int at = r.nextInt(b.length);
                        int len = Math.min(b.length - at, 1 + r.nextInt(64));
                        int to = r.nextInt(b.length - len + 1);
                        System.arraycopy(b, at, b, to, len);
                    }
                }
            }
            Media m;
            try {
                m = Media.bytes(b);
            } catch (IllegalArgumentException e) {
                refused++;
                continue;
            }
            try {
                assertEquals(64, projector.countTokens(m));
                decoded++;
            } catch (LlamaException | IllegalArgumentException e) {
                refused++;
            }
        }
        assertEquals(n, decoded + refused);
        assertTrue(decoded > 0 && refused > 0, decoded + " decoded, " + refused + " refused");
        Files.writeString(tmp.resolve("fuzz.txt"), decoded + " decoded, " + refused + " refused");
    }
}
