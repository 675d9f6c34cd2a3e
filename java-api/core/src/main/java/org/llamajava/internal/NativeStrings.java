package org.llamajava.internal;

import static org.llamajava.bindings.global.llama.llamajava_free;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/** Reads strings from llama.cpp's snprintf-style functions, growing the buffer as needed. */
public final class NativeStrings {
    private NativeStrings() {}

    /** A native function that writes into {@code buf} and returns the full length it needed. */
    @FunctionalInterface
    public interface Writer {
        int write(BytePointer buf, long size);
    }

    public static String read(Writer w) {
        int size = 256;
        while (true) {
            try (BytePointer buf = new BytePointer(size)) {
                int n = w.write(buf, size);
                if (n < 0) {
                    return null;
                }
                if (n < size) {
                    byte[] bytes = new byte[n];
                    buf.get(bytes, 0, n);
                    return new String(bytes, StandardCharsets.UTF_8);
                }
                size = n + 1;
            }
        }
    }

    /** A native function that writes entry {@code index}'s key or value into {@code buf}, as {@link Writer}. */
    @FunctionalInterface
    public interface IndexedWriter {
        int write(int index, BytePointer buf, long size);
    }

    /** A native function that writes the value of {@code key} into {@code buf}, as {@link Writer}. */
    @FunctionalInterface
    public interface KeyedWriter {
        int write(BytePointer key, BytePointer buf, long size);
    }

    /**
     * The value of metadata key {@code key} (llama.cpp's {@code *_meta_val_str}), or null if absent.
     *
     * @throws IllegalArgumentException if {@code key} is null
     */
    public static String value(String key, KeyedWriter w) {
        if (key == null) {
            throw new IllegalArgumentException("key is null");
        }
        try (BytePointer k = new BytePointer(key, StandardCharsets.UTF_8)) {
            return read((buf, size) -> w.write(k, buf, size));
        }
    }

    /**
     * {@code count} key/value pairs read by index (llama.cpp's {@code *_meta_key_by_index} and
     * {@code *_meta_val_str_by_index}), in order, unmodifiable.
     */
    public static java.util.Map<String, String> pairs(int count, IndexedWriter key, IndexedWriter value) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int idx = i;
            out.put(read((buf, size) -> key.write(idx, buf, size)), read((buf, size) -> value.write(idx, buf, size)));
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** The UTF-8 string a native call wrote into {@code buf}, up to its first NUL (or the whole buffer). */
    public static String untilNul(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    /** A NUL-terminated UTF-8 string from native memory, or null for a null pointer. */
    public static String utf8(BytePointer p) {
        return p == null || p.isNull() ? null : p.getString(StandardCharsets.UTF_8);
    }

    /**
     * Calls a shim function that returns a string to free with {@code llamajava_free}, or NULL with
     * an error message (also to free) in its last argument; returns the string, or throws what
     * {@code onError} makes of the message.
     */
    public static String shim(Function<PointerPointer<BytePointer>, BytePointer> call,
                              Function<String, RuntimeException> onError) {
        try (PointerPointer<BytePointer> error = new PointerPointer<>(1)) {
            error.put(0, null);
            BytePointer out = call.apply(error);
            if (out == null || out.isNull()) {
                throw onError.apply(takeError(error));
            }
            try {
                return out.getString(StandardCharsets.UTF_8);
            } finally {
                llamajava_free(out);
            }
        }
    }

    /** The message a shim function left in its error argument (freed here), or "unknown error". */
    public static String takeError(PointerPointer<BytePointer> error) {
        BytePointer msg = error.get(BytePointer.class, 0);
        if (msg == null || msg.isNull()) {
            return "unknown error";
        }
        try {
            return msg.getString(StandardCharsets.UTF_8);
        } finally {
            llamajava_free(msg);
        }
    }
}
