package org.llamajava.gguf;

import static org.llamajava.bindings.global.llama.*;

import org.llamajava.internal.NativeLibrary;
import org.llamajava.internal.NativeStrings;

/**
 * A ggml tensor data type, such as F32, F16, Q8_0 or Q4_0.
 *
 * @param id   ggml's numeric type id
 * @param name ggml's name for it, e.g. {@code q8_0}
 */
public record GgmlType(int id, String name) {
    public static final GgmlType F32 = new GgmlType(GGML_TYPE_F32, "f32");
    public static final GgmlType F16 = new GgmlType(GGML_TYPE_F16, "f16");
    public static final GgmlType Q8_0 = new GgmlType(GGML_TYPE_Q8_0, "q8_0");
    public static final GgmlType Q4_0 = new GgmlType(GGML_TYPE_Q4_0, "q4_0");

    /** The type with this ggml id, named as ggml names it. */
    public static GgmlType of(int id) {
        if (id < 0 || id >= GGML_TYPE_COUNT) {
            throw new IllegalArgumentException("unknown ggml type id " + id);
        }
        NativeLibrary.init();
        return new GgmlType(id, NativeStrings.utf8(ggml_type_name(id)));
    }

    /** Bytes taken by {@code n} elements of this type (n must be a multiple of the block size). */
    public long bytesFor(long n) {
        NativeLibrary.init();
        long block = ggml_blck_size(id);
        if (n % block != 0) {
            throw new IllegalArgumentException(n + " elements is not a multiple of " + name + "'s block size " + block);
        }
        return ggml_row_size(id, n);
    }

    @Override
    public String toString() {
        return name;
    }
}
