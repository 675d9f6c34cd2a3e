package org.llamajava;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufFile;

/**
 * A control vector: one direction per layer, added to that layer's output
 * ({@link Context#setControlVector}). Loaded from GGUF files as llama.cpp's common library loads
 * {@code --control-vector} files (F32 tensors {@code direction.N}, N the layer counted from 1,
 * each scaled by a strength; several files add up). Plain Java data: nothing to close.
 *
 * <pre>{@code
 * ControlVector happy = ControlVector.load(Path.of("happy.gguf"), 0.8f);
 * ctx.setControlVector(happy, 10, 20);
 * }</pre>
 */
public final class ControlVector {
    private final int embedding;
    private final float[] data;

    private ControlVector(int embedding, float[] data) {
        this.embedding = embedding;
        this.data = data;
    }

    /**
     * A control vector from directions given per layer: {@code layers[0]} for layer 1, and so on;
     * every row the same length (the model's embedding size).
     */
    public static ControlVector of(float[][] layers) {
        if (layers == null || layers.length == 0) {
            throw new IllegalArgumentException("no layers given");
        }
        int n = layers[0] == null ? 0 : layers[0].length;
        if (n == 0) {
            throw new IllegalArgumentException("layer 1's direction is empty");
        }
        float[] data = new float[n * layers.length];
        for (int i = 0; i < layers.length; i++) {
            if (layers[i] == null || layers[i].length != n) {
                throw new IllegalArgumentException("layer " + (i + 1) + "'s direction must have " + n + " values");
            }
            System.arraycopy(layers[i], 0, data, i * n, n);
        }
        return new ControlVector(n, data);
    }

    /** Loads a control vector file at strength 1. */
    public static ControlVector load(Path file) {
        return load(file, 1f);
    }

    /**
     * Loads a control vector file, each direction multiplied by {@code strength}.
     *
     * @throws LlamaException if the file is not GGUF or its tensors are not F32, one-dimensional
     *     {@code direction.N} tensors (N &gt;= 1) of one length
     */
    public static ControlVector load(Path file, float strength) {
        GgufFile gguf = GgufFiles.read(file);
        String name = file.toAbsolutePath().toString();
        if (gguf.tensors().isEmpty()) {
            throw new LlamaException("no direction tensors found in control vector " + name);
        }
        int n = -1;
        float[] data = new float[0];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (GgufFile.TensorInfo t : gguf.tensors()) {
                int layer = -1;
                String tn = t.name();
                int dot = tn.indexOf('.');
                if (dot > 0 && tn.substring(0, dot).equals("direction")) {
                    try {
                        layer = Integer.parseInt(tn.substring(dot + 1));
                    } catch (NumberFormatException e) {
                        layer = -1;
                    }
                }
                if (layer < 0) {
                    throw new LlamaException("invalid/unparsable direction tensor layer index '" + tn + "' in " + name);
                }
                if (layer == 0) {
                    throw new LlamaException("invalid (zero) direction tensor layer index in " + name);
                }
                if (t.type().id() != GgmlType.F32.id()) {
                    throw new LlamaException("invalid (non-F32) direction tensor type of '" + tn + "' in " + name);
                }
                if (t.shape().length != 1) {
                    throw new LlamaException("invalid (non-1D) direction tensor shape of '" + tn + "' in " + name);
                }
                int len = (int) t.shape()[0];
                if (n == -1) {
                    n = len;
                } else if (len != n) {
                    throw new LlamaException("direction tensor '" + tn + "' in " + name + " does not match previous dimensions");
                }
                if (data.length < n * layer) {
                    data = Arrays.copyOf(data, n * layer);
                }
                ByteBuffer buf = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
                long pos = gguf.dataOffset() + t.offset();
                while (buf.hasRemaining()) {
                    int r = ch.read(buf, pos + buf.position());
                    if (r < 0) {
                        throw new LlamaException("truncated control vector " + name);
                    }
                }
                buf.flip();
                int off = n * (layer - 1);
                for (int j = 0; j < n; j++) {
                    data[off + j] += buf.getFloat() * strength;
                }
            }
        } catch (IOException e) {
            throw new LlamaException("cannot read control vector " + name + ": " + e.getMessage(), e);
        }
        return new ControlVector(n, data);
    }

    /** The sum of control vectors (as llama.cpp adds several {@code --control-vector} files). */
    public static ControlVector sum(ControlVector... vectors) {
        if (vectors == null || vectors.length == 0) {
            throw new IllegalArgumentException("no control vectors given");
        }
        int n = vectors[0].embedding;
        float[] data = new float[0];
        for (ControlVector v : vectors) {
            if (v.embedding != n) {
                throw new IllegalArgumentException("control vectors of embedding sizes " + n + " and " + v.embedding
                        + " cannot be added");
            }
            if (data.length < v.data.length) {
                data = Arrays.copyOf(data, v.data.length);
            }
            for (int i = 0; i < v.data.length; i++) {
                data[i] += v.data[i];
            }
        }
        return new ControlVector(n, data);
    }

    /** The length of each layer's direction (the model's embedding size). */
    public int embeddingSize() {
        return embedding;
    }

    /** The number of layers it has directions for (layer 1 onwards). */
    public int layerCount() {
        return data.length / embedding;
    }

    /** The direction for a layer counted from 1 (a copy). */
    public float[] direction(int layer) {
        if (layer < 1 || layer > layerCount()) {
            throw new IndexOutOfBoundsException("layer " + layer + " is outside 1.." + layerCount());
        }
        return Arrays.copyOfRange(data, (layer - 1) * embedding, layer * embedding);
    }

    /** Every direction, layer 1 first (shared: not copied). */
    float[] data() {
        return data;
    }
}
