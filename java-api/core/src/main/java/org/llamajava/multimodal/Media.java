package org.llamajava.multimodal;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.llamajava.LlamaException;

/**
 * One image or audio clip for a multimodal prompt: an immutable Java value (no native memory),
 * decoded when a {@link Projector} tokenizes a prompt holding it.
 *
 * <p>Who decodes what: {@link #file} and {@link #bytes} hold encoded media, which llama.cpp's mtmd
 * decodes natively (images with stb_image: PNG, JPEG, GIF, BMP, PSD, PNM, HDR; audio with
 * miniaudio: WAV, MP3, FLAC); llama-java recognises the format by its first bytes first and
 * refuses anything else (WebP and video are not supported). {@link #image(BufferedImage)}
 * decodes nothing: Java (javax.imageio, or your code) already did, and its pixels are passed as
 * RGB. {@link #rgb} and {@link #pcm} take raw pixels and samples.
 *
 * <p>Each Media has an {@link #id()} (SHA-256 of its content), by which a sequence recognises an
 * image it already holds in its KV cache and skips evaluating it again.
 */
public final class Media {
    /** The most bytes of encoded media (or raw pixels or samples) accepted: 64 MiB. */
    public static final int MAX_BYTES = 64 << 20;

    private final MediaType type;
    private final byte[] encoded;
    private final int width;
    private final int height;
    private final byte[] rgb;
    private final float[] pcm;
    private final String id;
    private final String description;

    private Media(MediaType type, byte[] encoded, int width, int height, byte[] rgb, float[] pcm, String description) {
        this.type = type;
        this.encoded = encoded;
        this.width = width;
        this.height = height;
        this.rgb = rgb;
        this.pcm = pcm;
        this.description = description;
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (encoded != null) {
            sha.update(encoded);
        } else if (rgb != null) {
            sha.update(("rgb:" + width + "x" + height + ":").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            sha.update(rgb);
        } else {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(pcm.length * 4);
            b.asFloatBuffer().put(pcm);
            sha.update("pcm:".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            sha.update(b.array());
        }
        this.id = HexFormat.of().formatHex(sha.digest());
    }

    /**
     * An encoded image or audio file, read now (the format is recognised from its content).
     *
     * @throws LlamaException if the file cannot be read
     * @throws IllegalArgumentException if it is larger than {@link #MAX_BYTES} or not a supported format
     */
    public static Media file(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("path is null");
        }
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > MAX_BYTES) {
                throw new IllegalArgumentException("media file " + path + " has " + size + " bytes; at most " + MAX_BYTES
                        + " are accepted");
            }
            data = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new LlamaException("no such media file: " + path.toAbsolutePath(), e);
        } catch (IOException e) {
            throw new LlamaException("cannot read media file " + path.toAbsolutePath() + ": " + e.getMessage(), e);
        }
        return encoded(data, path.toString());
    }

    /**
     * Encoded image or audio bytes (e.g. a PNG or WAV received over HTTP), copied.
     *
     * @throws IllegalArgumentException if empty, larger than {@link #MAX_BYTES}, or not a supported format
     */
    public static Media bytes(byte[] data) {
        if (data == null) {
            throw new IllegalArgumentException("data is null");
        }
        return encoded(data.clone(), data.length + " bytes");
    }

    private static Media encoded(byte[] data, String what) {
        if (data.length == 0) {
            throw new IllegalArgumentException("media " + what + " is empty");
        }
        if (data.length > MAX_BYTES) {
            throw new IllegalArgumentException("media " + what + " has " + data.length + " bytes; at most " + MAX_BYTES
                    + " are accepted");
        }
        MediaType type = sniff(data);
        if (type == null) {
            throw new IllegalArgumentException("unsupported media type: " + what + " is neither an image (PNG, JPEG, GIF,"
                    + " BMP, PSD, PNM, HDR) nor audio (WAV, MP3, FLAC); convert it first (e.g. WebP to PNG)");
        }
        return new Media(type, data, 0, 0, null, null, what);
    }

    /**
     * An image decoded by Java: its pixels as 8-bit RGB (alpha dropped, any color model converted
     * by {@link BufferedImage#getRGB}).
     */
    public static Media image(BufferedImage image) {
        if (image == null) {
            throw new IllegalArgumentException("image is null");
        }
        int w = image.getWidth();
        int h = image.getHeight();
        checkSize(w, h);
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        byte[] out = new byte[argb.length * 3];
        for (int i = 0; i < argb.length; i++) {
            out[3 * i] = (byte) (argb[i] >> 16);
            out[3 * i + 1] = (byte) (argb[i] >> 8);
            out[3 * i + 2] = (byte) argb[i];
        }
        return new Media(MediaType.IMAGE, null, w, h, out, null, w + "x" + h + " image");
    }

    /**
     * Raw pixels: {@code width * height} RGB triples, row by row from the top left, copied.
     */
    public static Media rgb(int width, int height, byte[] rgb) {
        checkSize(width, height);
        if (rgb == null || rgb.length != width * height * 3) {
            throw new IllegalArgumentException("rgb must hold width * height * 3 = " + (long) width * height * 3
                    + " bytes; got " + (rgb == null ? "null" : rgb.length));
        }
        return new Media(MediaType.IMAGE, null, width, height, rgb.clone(), null, width + "x" + height + " image");
    }

    /**
     * Mono audio samples in [-1, 1] at the projector's {@link Projector#audioSampleRate()}, copied.
     */
    public static Media pcm(float[] samples) {
        if (samples == null || samples.length == 0) {
            throw new IllegalArgumentException("samples must not be empty");
        }
        if ((long) samples.length * 4 > MAX_BYTES) {
            throw new IllegalArgumentException(samples.length + " samples is more than " + MAX_BYTES / 4);
        }
        return new Media(MediaType.AUDIO, null, 0, 0, null, samples.clone(), samples.length + " audio samples");
    }

    private static void checkSize(int w, int h) {
        if (w <= 0 || h <= 0 || (long) w * h * 3 > MAX_BYTES) {
            throw new IllegalArgumentException("image size " + w + "x" + h + " must be positive and at most "
                    + MAX_BYTES / 3 + " pixels");
        }
    }

    /** The format by its first bytes, or null if unsupported. */
    static MediaType sniff(byte[] b) {
        if (startsWith(b, 0xFF, 0xD8, 0xFF) || startsWith(b, 0x89, 'P', 'N', 'G') || startsWith(b, 'G', 'I', 'F', '8')
                || startsWith(b, 'B', 'M') || startsWith(b, '8', 'B', 'P', 'S') || startsWith(b, '#', '?', 'R')
                || (b.length > 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6') && Character.isWhitespace(b[2]))) {
            return MediaType.IMAGE;
        }
        if ((startsWith(b, 'R', 'I', 'F', 'F') && b.length >= 12 && b[8] == 'W' && b[9] == 'A' && b[10] == 'V'
                && b[11] == 'E') || startsWith(b, 'I', 'D', '3') || startsWith(b, 'f', 'L', 'a', 'C')
                || (b.length > 1 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xE0) == 0xE0)) {
            return MediaType.AUDIO;
        }
        return null;
    }

    private static boolean startsWith(byte[] b, int... prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((b[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether this is an image or audio. */
    public MediaType type() {
        return type;
    }

    /** The SHA-256 of the content, in hex: equal media have equal ids. */
    public String id() {
        return id;
    }

    /** Encoded bytes (from {@link #file} or {@link #bytes}), or null. */
    byte[] encoded() {
        return encoded;
    }

    int width() {
        return width;
    }

    int height() {
        return height;
    }

    byte[] rgb() {
        return rgb;
    }

    float[] pcm() {
        return pcm;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Media m && m.id.equals(id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return "Media[" + type + ", " + description + ", " + id.substring(0, 12) + "]";
    }
}
