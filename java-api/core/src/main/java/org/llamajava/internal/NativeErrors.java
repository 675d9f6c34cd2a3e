package org.llamajava.internal;

/**
 * The last error or warning line llama.cpp logged on each thread, so that an exception can say
 * what llama.cpp said. The log router records; callers clear before a native call and read the
 * line after it fails. Internal: not part of the API.
 */
public final class NativeErrors {
    private static final ThreadLocal<String> LAST = new ThreadLocal<>();

    private NativeErrors() {}

    /** Records an error or warning line logged on this thread. */
    public static void record(String line) {
        LAST.set(line);
    }

    /** The calling thread's last line, or null; unlike {@link #suffix()} it is kept. */
    public static String last() {
        return LAST.get();
    }

    /** Forgets the calling thread's last line. */
    public static void clear() {
        LAST.remove();
    }

    /** ": " plus the last line logged on this thread (then forgotten), or "" if none. */
    public static String suffix() {
        String e = LAST.get();
        LAST.remove();
        return e == null ? "" : ": " + e;
    }
}
