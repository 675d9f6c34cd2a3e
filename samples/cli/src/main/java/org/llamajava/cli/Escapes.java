package org.llamajava.cli;

/**
 * Backslash escapes in prompts, as llama.cpp's tools process them by default: {@code \n},
 * {@code \r}, {@code \t}, {@code \'}, {@code \"}, {@code \\} and {@code \xHH}. Anything else is
 * kept as written.
 */
final class Escapes {
    private Escapes() {}

    static String process(String s) {
        StringBuilder out = new StringBuilder(s.length());
        java.io.ByteArrayOutputStream pendingBytes = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (n == 'x' && i + 3 < s.length() && isHex(s.charAt(i + 2)) && isHex(s.charAt(i + 3))) {
                    pendingBytes.write(Integer.parseInt(s.substring(i + 2, i + 4), 16));
                    i += 3;
                    continue;
                }
                String rep = switch (n) {
                    case 'n' -> "\n";
                    case 'r' -> "\r";
                    case 't' -> "\t";
                    case '\'' -> "'";
                    case '"' -> "\"";
                    case '\\' -> "\\";
                    default -> null;
                };
                if (rep != null) {
                    flush(pendingBytes, out);
                    out.append(rep);
                    i++;
                    continue;
                }
            }
            flush(pendingBytes, out);
            out.append(c);
        }
        flush(pendingBytes, out);
        return out.toString();
    }

    /** \xHH escapes are bytes: decode a run of them as UTF-8. */
    private static void flush(java.io.ByteArrayOutputStream bytes, StringBuilder out) {
        if (bytes.size() > 0) {
            out.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
            bytes.reset();
        }
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }
}
