package org.llamajava.internal;

import java.util.function.Consumer;

/**
 * Lets a thread see the complete lines llama.cpp logs on it, whatever the logger's level: the
 * log router hands each line here. Used where llama.cpp reports progress only in its log (its
 * quantizer's per-tensor lines). Internal: not part of the API.
 */
public final class NativeLogLines {
    private static final ThreadLocal<Consumer<String>> LISTENER = new ThreadLocal<>();

    private NativeLogLines() {}

    /** Sends the calling thread's log lines to {@code listener} until {@link #stop()}. */
    public static void listen(Consumer<String> listener) {
        LISTENER.set(listener);
    }

    /** Stops sending the calling thread's lines. */
    public static void stop() {
        LISTENER.remove();
    }

    /** Called by the log router with each complete line logged on the calling thread. */
    public static void deliver(String line) {
        Consumer<String> l = LISTENER.get();
        if (l != null) {
            try {
                l.accept(line);
            } catch (RuntimeException ignored) {
                // a listener must not break logging
            }
        }
    }
}
