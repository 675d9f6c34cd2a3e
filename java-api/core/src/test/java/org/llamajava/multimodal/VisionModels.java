package org.llamajava.multimodal;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.llamajava.TestSupport;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufWriter;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Random-weight vision test models: the tiny random text model and a LLaVA-1.5-shaped projector
 * ({@code clip.projector_type = mlp}: a CLIP ViT with a class embedding, pre-layernorm and
 * {@code layers} transformer blocks, then the two-layer GELU MLP {@code mm.0}/{@code mm.2} into
 * the text model's embedding size), written with llama-java's GGUF writer in the tensor names and
 * shapes the pinned clip.cpp loads. The vision tower is tiny (width 32, 2 heads); the image size
 * and patch size are real ones, so mtmd's preprocessing (resize to a square of
 * {@code imageSize}) runs as for a real model and an image becomes
 * {@code (imageSize / 14)^2} tokens.
 */
public final class VisionModels {
    /** {@link #image}'s PNG with every color inverted. */
    public static byte[] invertedImage() {
        try {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(image("png")));
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, ~img.getRGB(x, y) & 0xffffff);
                }
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A test image: a 150x100 color gradient with a disc, as PNG (or JPEG) bytes written by javax.imageio. */
    public static byte[] image(String format) {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(150, 100,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 100; y++) {
            for (int x = 0; x < 150; x++) {
                boolean disc = (x - 90) * (x - 90) + (y - 40) * (y - 40) < 400;
                img.setRGB(x, y, disc ? 0xffd020 : (x * 255 / 150) << 16 | (y * 255 / 100) << 8 | 0x40);
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            if (!javax.imageio.ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The vision tower's width. */
    public static final int VISION_WIDTH = 32;
    /** LLaVA's (CLIP-L/14's) patch size. */
    public static final int PATCH = 14;

    private VisionModels() {}

    /** Writes (once per folder) the tiny random text model (the test vocabulary, no chat template). */
    public static synchronized Path textModel(Path dir) {
        Path p = dir.resolve("vision-text-tiny.gguf");
        if (!Files.exists(p)) {
            // scaled up, so that greedy generation does not settle on one token
            new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(11).scale(4f).write(p);
        }
        return p;
    }

    /** The text model's embedding size, which the projector's output must have. */
    public static int textEmbedding() {
        return ModelShape.tiny().embedding();
    }

    /** Writes (once per folder and shape) a projector for the tiny text model, 112-pixel images (64 tokens). */
    public static Path projector(Path dir) {
        return projector(dir, 112, textEmbedding());
    }

    /**
     * Writes (once per folder and shape) a LLaVA-style projector.
     *
     * @param imageSize the square image side the projector takes (a multiple of 14)
     * @param outEmbd   the projector's output embedding size (the text model's n_embd to match)
     */
    public static synchronized Path projector(Path dir, int imageSize, int outEmbd) {
        Path p = dir.resolve("mmproj-mlp-" + imageSize + "-" + outEmbd + ".gguf");
        if (Files.exists(p)) {
            return p;
        }
        int e = VISION_WIDTH;
        int ff = 64;
        int layers = 2;
        int nPatches = (imageSize / PATCH) * (imageSize / PATCH);
        int nPos = nPatches + 1;
        try (GgufWriter w = new GgufWriter()) {
            w.putString("general.architecture", "clip")
                    .putString("general.name", "llama-java random llava-mlp projector")
                    .putUInt32("general.file_type", 0)
                    .putString("clip.projector_type", "mlp")
                    .putBool("clip.has_vision_encoder", true)
                    .putUInt32("clip.vision.image_size", imageSize)
                    .putUInt32("clip.vision.patch_size", PATCH)
                    .putUInt32("clip.vision.embedding_length", e)
                    .putUInt32("clip.vision.feed_forward_length", ff)
                    .putUInt32("clip.vision.block_count", layers)
                    .putUInt32("clip.vision.projection_dim", outEmbd)
                    .putUInt32("clip.vision.attention.head_count", 2)
                    .putFloat32("clip.vision.attention.layer_norm_epsilon", 1e-5f)
                    .putFloat32Array("clip.vision.image_mean", new float[] {0.48145466f, 0.4578275f, 0.40821073f})
                    .putFloat32Array("clip.vision.image_std", new float[] {0.26862954f, 0.26130258f, 0.27577711f});
            int[] id = {0};
            random(w, "v.patch_embd.weight", new long[] {PATCH, PATCH, 3, e}, PATCH * PATCH * 3, id[0]++);
            random(w, "v.patch_embd.bias", new long[] {e}, e, id[0]++);
            random(w, "v.class_embd", new long[] {e}, 1, id[0]++);
            random(w, "v.position_embd.weight", new long[] {e, nPos}, e, id[0]++);
            ones(w, "v.pre_ln.weight", e);
            zeros(w, "v.pre_ln.bias", e);
            for (int l = 0; l < layers; l++) {
                String b = "v.blk." + l + ".";
                for (String m : new String[] {"attn_q", "attn_k", "attn_v", "attn_out"}) {
                    random(w, b + m + ".weight", new long[] {e, e}, e, id[0]++);
                    random(w, b + m + ".bias", new long[] {e}, e, id[0]++);
                }
                ones(w, b + "ln1.weight", e);
                zeros(w, b + "ln1.bias", e);
                ones(w, b + "ln2.weight", e);
                zeros(w, b + "ln2.bias", e);
                random(w, b + "ffn_up.weight", new long[] {e, ff}, e, id[0]++);
                random(w, b + "ffn_up.bias", new long[] {ff}, e, id[0]++);
                random(w, b + "ffn_down.weight", new long[] {ff, e}, ff, id[0]++);
                random(w, b + "ffn_down.bias", new long[] {e}, ff, id[0]++);
            }
            random(w, "mm.0.weight", new long[] {e, outEmbd}, e, id[0]++);
            random(w, "mm.0.bias", new long[] {outEmbd}, e, id[0]++);
            random(w, "mm.2.weight", new long[] {outEmbd, outEmbd}, outEmbd, id[0]++);
            random(w, "mm.2.bias", new long[] {outEmbd}, outEmbd, id[0]++);
            w.write(p);
        }
        return p;
    }

    private static void random(GgufWriter w, String name, long[] shape, int fanIn, int index) {
        float bound = (float) (1.0 / Math.sqrt(fanIn));
        long seed = 0x5eed_0000L + index;
        w.addTensor(name, GgmlType.F32, shape, buf -> fill(buf, seed, bound));
    }

    private static void fill(ByteBuffer buf, long seed, float bound) {
        SplittableRandom r = new SplittableRandom(seed);
        while (buf.hasRemaining()) {
            buf.putFloat((float) ((r.nextDouble() * 2 - 1) * bound));
        }
    }

    private static void ones(GgufWriter w, String name, int n) {
        w.addTensor(name, GgmlType.F32, new long[] {n}, buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(1f);
            }
        });
    }

    private static void zeros(GgufWriter w, String name, int n) {
        w.addTensor(name, GgmlType.F32, new long[] {n}, buf -> {
            while (buf.hasRemaining()) {
                buf.putFloat(0f);
            }
        });
    }
}
