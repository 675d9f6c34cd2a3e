package org.llamajava.gguf;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.llamajava.bindings.gguf_context;
import org.llamajava.bindings.gguf_init_params;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.NativeLibrary;
import org.llamajava.internal.NativeStrings;

/**
 * The metadata and tensor directory of a GGUF file, read without loading any weights.
 *
 * <p>Values map to Java types as follows: integers up to 32 bits signed and 16 bits unsigned to
 * {@link Integer}, UINT32 and 64-bit integers to {@link Long}, FLOAT32 to {@link Float}, FLOAT64
 * to {@link Double}, BOOL to {@link Boolean}, STRING to {@link String} and arrays to an
 * unmodifiable {@link List} of those.
 *
 * @param path       the file read
 * @param version    GGUF format version
 * @param alignment  alignment of tensor data in bytes
 * @param dataOffset offset of the tensor data section in the file
 * @param metadata   every key/value pair, in file order
 * @param tensors    every tensor's description, in file order
 */
public record GgufFile(Path path, int version, long alignment, long dataOffset,
                       Map<String, Object> metadata, List<TensorInfo> tensors) {

    /** One tensor's entry in the GGUF directory. */
    public record TensorInfo(String name, GgmlType type, long[] shape, long offset, long sizeBytes) {
        /** Copies {@code shape}. */
        public TensorInfo {
            shape = shape == null ? new long[0] : shape.clone();
        }

        /** A copy of the dimensions, innermost first (ggml's ne). */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Equal when every component is, the shape compared by content. */
        @Override
        public boolean equals(Object o) {
            return o instanceof TensorInfo t && Objects.equals(name, t.name) && Objects.equals(type, t.type)
                    && Arrays.equals(shape, t.shape) && offset == t.offset && sizeBytes == t.sizeBytes;
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, type, Arrays.hashCode(shape), offset, sizeBytes);
        }

        @Override
        public String toString() {
            return "TensorInfo[name=" + name + ", type=" + type + ", shape=" + shapeString() + ", offset=" + offset
                    + ", sizeBytes=" + sizeBytes + "]";
        }

        /** The shape as llama.cpp prints it, e.g. {@code [64, 512]}. */
        public String shapeString() {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < shape.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(shape[i]);
            }
            return sb.append(']').toString();
        }
    }

    /** The four bytes every GGUF file starts with. */
    static final byte[] MAGIC = {'G', 'G', 'U', 'F'};

    public GgufFile {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        tensors = List.copyOf(tensors);
    }

    /**
     * Reads the header, metadata and tensor directory of a GGUF file, and checks that every
     * tensor's data lies within the file.
     *
     * @throws GgufException if the path is not a readable, well-formed GGUF file
     */
    public static GgufFile read(Path path) {
        checkReadableGguf(path);
        NativeLibrary.init();
        try (Native n = open(path)) {
            gguf_context ctx = n.ctx;
            Map<String, Object> meta = new LinkedHashMap<>();
            long nKv = gguf_get_n_kv(ctx);
            for (long i = 0; i < nKv; i++) {
                meta.put(NativeStrings.utf8(gguf_get_key(ctx, i)), value(ctx, i));
            }
            long dataOffset = gguf_get_data_offset(ctx);
            List<TensorInfo> tensors = new ArrayList<>();
            long nT = gguf_get_n_tensors(ctx);
            for (long i = 0; i < nT; i++) {
                LongPointer ne = gguf_get_tensor_ne(ctx, i);
                int type = gguf_get_tensor_type(ctx, i);
                int dims = 4;
                while (dims > 1 && ne.get(dims - 1) == 1) {
                    dims--;
                }
                long[] shape = new long[dims];
                for (int d = 0; d < dims; d++) {
                    shape[d] = ne.get(d);
                }
                tensors.add(new TensorInfo(NativeStrings.utf8(gguf_get_tensor_name(ctx, i)), GgmlType.of(type), shape,
                        gguf_get_tensor_offset(ctx, i), gguf_get_tensor_size(ctx, i)));
            }
            GgufFile f = new GgufFile(path, gguf_get_version(ctx), gguf_get_alignment(ctx), dataOffset, meta,
                    tensors);
            f.checkTensorBounds();
            return f;
        }
    }

    /** The string value of a key, or null if absent or not a string. */
    public String getString(String key) {
        return metadata.get(key) instanceof String s ? s : null;
    }

    /** The architecture named by {@code general.architecture}, or null. */
    public String architecture() {
        return getString("general.architecture");
    }

    /** Fails if any tensor's data extends past the end of the file. */
    void checkTensorBounds() {
        long size;
        try {
            size = Files.size(path);
        } catch (IOException e) {
            throw new GgufException("cannot read " + path.toAbsolutePath() + ": " + e.getMessage(), e);
        }
        for (TensorInfo t : tensors) {
            long end = dataOffset + t.offset() + t.sizeBytes();
            if (t.offset() < 0 || end < 0 || end > size) {
                throw new GgufException("truncated or corrupt GGUF file " + path.toAbsolutePath() + ": tensor '" + t.name()
                        + "' ends at byte " + end + " but the file has " + size + " bytes");
            }
        }
    }

    /**
     * Throws {@link GgufException} for metadata that llama.cpp would assert on (aborting the
     * process) instead of rejecting with an error while loading this file as a model: duplicate or
     * inconsistent vocabulary entries, negative normalization epsilons, layer and expert counts out
     * of range, an unknown RoPE scaling type. {@link org.llamajava.Model#load} calls it.
     *
     * @param vocabOnly check only what loading the vocabulary alone would assert on
     */
    public void checkLoadable(boolean vocabOnly) {
        AssertedMetadata.check(this, vocabOnly);
    }

    /**
     * Java-side checks before any native code sees the path: exists, is a regular readable file,
     * and starts with the GGUF magic.
     */
    public static void checkReadableGguf(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("model path is null");
        }
        if (!Files.exists(path)) {
            throw new GgufException("model file not found: " + path.toAbsolutePath());
        }
        if (Files.isDirectory(path)) {
            throw new GgufException("model path is a directory, not a GGUF file: " + path.toAbsolutePath());
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new GgufException("model file is not a readable regular file: " + path.toAbsolutePath());
        }
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, 4);
        } catch (IOException e) {
            throw new GgufException("cannot read model file " + path.toAbsolutePath() + ": " + e.getMessage(), e);
        }
        if (n == 0) {
            throw new GgufException("model file is empty: " + path.toAbsolutePath());
        }
        if (n < 4 || !java.util.Arrays.equals(head, MAGIC)) {
            throw new GgufException("not a GGUF file (bad magic): " + path.toAbsolutePath());
        }
    }

    private static Native open(Path path) {
        try (gguf_init_params params = new gguf_init_params()) {
            params.no_alloc(true).ctx(null);
            NativeErrors.clear();
            gguf_context ctx = gguf_init_from_file(path.toAbsolutePath().toString(), params);
            if (ctx == null || ctx.isNull()) {
                throw new GgufException("corrupt or truncated GGUF file " + path.toAbsolutePath()
                        + NativeErrors.suffix());
            }
            return new Native(ctx);
        }
    }

    private record Native(gguf_context ctx) implements AutoCloseable {
        @Override
        public void close() {
            gguf_free(ctx);
        }
    }

    private static Object value(gguf_context ctx, long i) {
        int type = gguf_get_kv_type(ctx, i);
        if (type == GGUF_TYPE_ARRAY) {
            int at = gguf_get_arr_type(ctx, i);
            int n = (int) Math.min(gguf_get_arr_n(ctx, i), Integer.MAX_VALUE);
            List<Object> list = new ArrayList<>(n);
            if (at == GGUF_TYPE_STRING) {
                for (int k = 0; k < n; k++) {
                    list.add(NativeStrings.utf8(gguf_get_arr_str(ctx, i, k)));
                }
            } else {
                Pointer data = gguf_get_arr_data(ctx, i);
                for (int k = 0; k < n; k++) {
                    list.add(element(data, at, k));
                }
            }
            return Collections.unmodifiableList(list);
        }
        return switch (type) {
            case GGUF_TYPE_UINT8 -> gguf_get_val_u8(ctx, i) & 0xff;
            case GGUF_TYPE_INT8 -> (int) gguf_get_val_i8(ctx, i);
            case GGUF_TYPE_UINT16 -> gguf_get_val_u16(ctx, i) & 0xffff;
            case GGUF_TYPE_INT16 -> (int) gguf_get_val_i16(ctx, i);
            case GGUF_TYPE_UINT32 -> Integer.toUnsignedLong(gguf_get_val_u32(ctx, i));
            case GGUF_TYPE_INT32 -> gguf_get_val_i32(ctx, i);
            case GGUF_TYPE_UINT64 -> gguf_get_val_u64(ctx, i);
            case GGUF_TYPE_INT64 -> gguf_get_val_i64(ctx, i);
            case GGUF_TYPE_FLOAT32 -> gguf_get_val_f32(ctx, i);
            case GGUF_TYPE_FLOAT64 -> gguf_get_val_f64(ctx, i);
            case GGUF_TYPE_BOOL -> gguf_get_val_bool(ctx, i);
            case GGUF_TYPE_STRING -> NativeStrings.utf8(gguf_get_val_str(ctx, i));
            default -> throw new GgufException("unknown GGUF value type " + type);
        };
    }

    private static Object element(Pointer data, int type, int k) {
        return switch (type) {
            case GGUF_TYPE_UINT8 -> new BytePointer(data).get(k) & 0xff;
            case GGUF_TYPE_INT8 -> (int) new BytePointer(data).get(k);
            case GGUF_TYPE_UINT16 -> new ShortPointer(data).get(k) & 0xffff;
            case GGUF_TYPE_INT16 -> (int) new ShortPointer(data).get(k);
            case GGUF_TYPE_UINT32 -> Integer.toUnsignedLong(new IntPointer(data).get(k));
            case GGUF_TYPE_INT32 -> new IntPointer(data).get(k);
            case GGUF_TYPE_UINT64, GGUF_TYPE_INT64 -> new LongPointer(data).get(k);
            case GGUF_TYPE_FLOAT32 -> new FloatPointer(data).get(k);
            case GGUF_TYPE_FLOAT64 -> new DoublePointer(data).get(k);
            case GGUF_TYPE_BOOL -> new BytePointer(data).get(k) != 0;
            default -> throw new GgufException("unknown GGUF array element type " + type);
        };
    }

}
