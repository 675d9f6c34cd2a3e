package org.llamajava.gguf;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.ggml_context;
import org.llamajava.bindings.ggml_init_params;
import org.llamajava.bindings.ggml_tensor;
import org.llamajava.bindings.gguf_context;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.NativeLibrary;
import org.llamajava.internal.NativeState;

/**
 * Writes a GGUF file through llama.cpp's own {@code gguf.h}: metadata key/values and tensors.
 * Tensor data is streamed from Java after gguf.h has written the header, so files larger than
 * memory can be written.
 *
 * <pre>{@code
 * try (GgufWriter w = new GgufWriter()) {
 *     w.putString("general.architecture", "llama");
 *     w.addTensor("token_embd.weight", GgmlType.F32, new long[] {64, 512}, buf -> ...);
 *     w.write(Path.of("model.gguf"));
 * }
 * }</pre>
 */
public final class GgufWriter implements AutoCloseable {

    /** Fills a tensor's data: {@code dst} is little-endian and exactly the tensor's size. */
    @FunctionalInterface
    public interface TensorData {
        void fill(ByteBuffer dst);
    }

    private record Tensor(String name, long bytes, TensorData data) {}

    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    public GgufWriter() {
        NativeLibrary.init();
        state = new State(gguf_init_empty());
        cleanable = state.register(this);
    }

    public GgufWriter putString(String key, String value) {
        try (BytePointer k = key(key); BytePointer v = utf8(value)) {
            gguf_set_val_str(handle(), k, v);
        }
        return this;
    }

    /** An unsigned 32-bit value, given as a long in [0, 2^32). */
    public GgufWriter putUInt32(String key, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(key + ": " + value + " is not a uint32");
        }
        try (BytePointer k = key(key, value)) {
            gguf_set_val_u32(handle(), k, (int) value);
        }
        return this;
    }

    public GgufWriter putInt32(String key, int value) {
        try (BytePointer k = key(key)) {
            gguf_set_val_i32(handle(), k, value);
        }
        return this;
    }

    public GgufWriter putUInt64(String key, long value) {
        try (BytePointer k = key(key)) {
            gguf_set_val_u64(handle(), k, value);
        }
        return this;
    }

    public GgufWriter putFloat32(String key, float value) {
        try (BytePointer k = key(key)) {
            gguf_set_val_f32(handle(), k, value);
        }
        return this;
    }

    public GgufWriter putBool(String key, boolean value) {
        try (BytePointer k = key(key)) {
            gguf_set_val_bool(handle(), k, value);
        }
        return this;
    }

    public GgufWriter putStringArray(String key, List<String> values) {
        PointerPointer<BytePointer> arr = new PointerPointer<>(values.size());
        List<BytePointer> held = new ArrayList<>(values.size());
        try (BytePointer k = key(key)) {
            for (int i = 0; i < values.size(); i++) {
                BytePointer s = utf8(values.get(i));
                held.add(s);
                arr.put(i, s);
            }
            gguf_set_arr_str(handle(), k, arr, values.size());
        } finally {
            held.forEach(BytePointer::close);
            arr.close();
        }
        return this;
    }

    public GgufWriter putFloat32Array(String key, float[] values) {
        try (BytePointer k = key(key); FloatPointer p = new FloatPointer(values)) {
            gguf_set_arr_data(handle(), k, GGUF_TYPE_FLOAT32, p, values.length);
        }
        return this;
    }

    public GgufWriter putInt32Array(String key, int[] values) {
        try (BytePointer k = key(key); IntPointer p = new IntPointer(values)) {
            gguf_set_arr_data(handle(), k, GGUF_TYPE_INT32, p, values.length);
        }
        return this;
    }

    /**
     * Puts a metadata value of the Java type {@link GgufFile#metadata()} reads it as, so that a
     * file's metadata can be copied: {@code String}, {@code Long} (UINT32), {@code Integer}
     * (INT32), {@code Float}, {@code Boolean}, and non-empty lists of strings, integers or floats.
     *
     * @throws IllegalArgumentException for another type, or an empty list (whose element type is unknown)
     */
    @SuppressWarnings("unchecked")
    public GgufWriter putValue(String key, Object value) {
        if (value instanceof String s) {
            return putString(key, s);
        } else if (value instanceof Long n) {
            return putUInt32(key, n);
        } else if (value instanceof Integer n) {
            return putInt32(key, n);
        } else if (value instanceof Float f) {
            return putFloat32(key, f);
        } else if (value instanceof Boolean b) {
            return putBool(key, b);
        } else if (value instanceof List<?> list && !list.isEmpty()) {
            Object first = list.get(0);
            if (first instanceof String) {
                return putStringArray(key, (List<String>) list);
            } else if (first instanceof Integer) {
                return putInt32Array(key, ((List<Integer>) list).stream().mapToInt(Integer::intValue).toArray());
            } else if (first instanceof Float) {
                float[] a = new float[list.size()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (Float) list.get(i);
                }
                return putFloat32Array(key, a);
            }
        }
        throw new IllegalArgumentException("cannot write metadata " + key + " of type "
                + (value == null ? "null" : value.getClass().getSimpleName()) + " (" + value + ")");
    }

    /**
     * Adds a tensor; its data is filled when the file is written.
     *
     * @param shape ggml order: {@code shape[0]} is the row length (contiguous dimension)
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorData data) {
        if (name == null || name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length >= GGML_MAX_NAME) {
            throw new IllegalArgumentException("tensor name must be 1 to " + (GGML_MAX_NAME - 1) + " bytes: " + name);
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        if (shape == null || shape.length < 1 || shape.length > GGML_MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + " must have 1 to " + GGML_MAX_DIMS + " dimensions");
        }
        long elements = 1;
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + " has a non-positive dimension");
            }
            elements = Math.multiplyExact(elements, d);
        }
        long bytes = type.bytesFor(elements);
        if (shape[0] % ggml_blck_size(type.id()) != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + shape[0]
                    + " is not a multiple of " + type.name() + "'s block size");
        }
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor " + name + " is larger than 2 GiB");
        }
        try (ggml_init_params ip = new ggml_init_params()) {
            ip.mem_size(ggml_tensor_overhead()).mem_buffer(null).no_alloc(true);
            ggml_context gctx = ggml_init(ip);
            try (LongPointer ne = new LongPointer(shape); BytePointer n = utf8(name)) {
                ggml_tensor t = ggml_new_tensor(gctx, type.id(), shape.length, ne);
                ggml_set_name(t, n);
                gguf_add_tensor(handle(), t);
            } finally {
                ggml_free(gctx);
            }
        }
        tensors.add(new Tensor(name, bytes, data));
        return this;
    }

    /** Writes the file: metadata through gguf.h, then each tensor's data, aligned. */
    public void write(Path path) {
        gguf_context ctx = handle();
        String file = path.toAbsolutePath().toString();
        try (BytePointer f = utf8(file)) {
            if (!gguf_write_to_file(ctx, f, true)) {
                throw new GgufException("could not write GGUF header to " + file + NativeErrors.suffix());
            }
        }
        long meta = gguf_get_meta_size(ctx);
        long alignment = gguf_get_alignment(ctx);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            long end = meta;
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                ByteBuffer buf = ByteBuffer.allocate((int) t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                t.data().fill(buf);
                if (buf.position() != 0 && buf.position() != buf.capacity()) {
                    throw new IllegalStateException("tensor " + t.name() + ": filled " + buf.position() + " of "
                            + buf.capacity() + " bytes");
                }
                buf.clear();
                long offset = meta + gguf_get_tensor_offset(ctx, i);
                while (buf.hasRemaining()) {
                    offset += ch.write(buf, offset);
                }
                end = offset;
            }
            long padded = (end + alignment - 1) / alignment * alignment;
            if (padded > end) {
                ch.write(ByteBuffer.allocate((int) (padded - end)), end);
            }
        } catch (IOException e) {
            throw new GgufException("could not write tensor data to " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    private gguf_context handle() {
        if (state.isFreed()) {
            throw new IllegalStateException("GgufWriter is closed");
        }
        return state.ctx;
    }

    private static BytePointer key(String key) {
        return key(key, -1);
    }

    /**
     * The key as a C string; {@code u32} is the value of a UINT32 being set, or -1 for another
     * type. gguf.h aborts the process on a {@code general.alignment} that is not a UINT32 power of
     * two, and writes the data with its default alignment (32) whatever that key says, so any
     * other value would give a corrupt file: both are rejected here.
     */
    private static BytePointer key(String key, long u32) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("key must not be empty");
        }
        if (key.equals("general.alignment") && u32 != GGUF_DEFAULT_ALIGNMENT) {
            throw new IllegalArgumentException("general.alignment: GgufWriter aligns tensor data to "
                    + GGUF_DEFAULT_ALIGNMENT + " bytes, so only the UINT32 " + GGUF_DEFAULT_ALIGNMENT + " is accepted"
                    + (u32 < 0 ? "" : "; got " + u32));
        }
        return utf8(key);
    }

    private static BytePointer utf8(String s) {
        if (s == null) {
            throw new IllegalArgumentException("string value is null");
        }
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("string contains a NUL character");
        }
        return new BytePointer(s, StandardCharsets.UTF_8);
    }

    private static final class State extends NativeState {
        final gguf_context ctx;

        State(gguf_context ctx) {
            this.ctx = ctx;
        }

        @Override
        protected void free() {
            gguf_free(ctx);
        }
    }
}
