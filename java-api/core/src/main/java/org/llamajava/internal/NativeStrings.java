package org.llamajava;

import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.BytePointer;

/** Reads strings from llama.cpp's snprintf-style functions, growing the buffer as needed. */
final class NativeStrings {
    private NativeStrings() {}

    /** A native function that writes into {@code buf} and returns the full length it needed. */
    @FunctionalInterface
    interface Writer {
        int write(BytePointer buf, long size);
    }

    static String read(Writer w) {
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
}
