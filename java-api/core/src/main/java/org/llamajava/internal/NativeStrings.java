package org.llamajava.internal;

import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.BytePointer;

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

    /** A NUL-terminated UTF-8 string from native memory, or null for a null pointer. */
    public static String utf8(BytePointer p) {
        return p == null || p.isNull() ? null : p.getString(StandardCharsets.UTF_8);
    }
}
