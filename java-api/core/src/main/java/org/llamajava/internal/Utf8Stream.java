package org.llamajava.internal;

import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of UTF-8 byte pieces into text, holding back the bytes of a character split
 * across pieces until it is complete. Invalid bytes come out as U+FFFD.
 */
public final class Utf8Stream {
    private byte[] buf = new byte[64];
    private int len;

    /** Appends bytes and returns the text of every complete character so far, or "" if none. */
    public String push(byte[] bytes, int off, int n) {
        ensure(len + n);
        System.arraycopy(bytes, off, buf, len, n);
        len += n;
        int complete = completePrefix();
        if (complete == 0) {
            return "";
        }
        String s = new String(buf, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(buf, complete, buf, 0, len - complete);
        len -= complete;
        return s;
    }

    /** Whatever is held back (an incomplete character), decoded with replacement; then empty. */
    public String flush() {
        String s = len == 0 ? "" : new String(buf, 0, len, StandardCharsets.UTF_8);
        len = 0;
        return s;
    }

    /** Length of the longest prefix that does not end inside a (possibly valid) multi-byte character. */
    private int completePrefix() {
        // Look back at most 3 bytes for the lead byte of the last character.
        for (int back = 1; back <= Math.min(4, len); back++) {
            int b = buf[len - back] & 0xff;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte
            }
            int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (b >= 0xF8 || (b & 0xC0) == 0x80) {
                return len; // invalid lead: let the decoder replace it
            }
            return need > back ? len - back : len;
        }
        return len; // only continuation bytes: invalid, let the decoder replace them
    }

    private void ensure(int cap) {
        if (cap > buf.length) {
            buf = java.util.Arrays.copyOf(buf, Math.max(cap, buf.length * 2));
        }
    }
}
