package org.llamajava.internal;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs native calls that recurse with their input (llama.cpp's JSON Schema converter, the chat
 * templates' rendering of tool schemas) on threads with a 64 MiB stack, so that no input can
 * overflow the small stack of a JVM thread (a server's worker thread has 1 MiB): a native stack
 * overflow is a SIGSEGV that takes the whole process down, with no Java exception. The threads
 * are daemons, made on demand and kept a minute. Internal: not API.
 */
public final class DeepNative {
    /** The stack size asked for: ample for any input the callers' bounds let through. */
    static final long STACK_BYTES = 64L << 20;

    private static final ExecutorService THREADS = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(null, r, "llama-java-deep-native", STACK_BYTES);
                t.setDaemon(true);
                return t;
            });

    private DeepNative() {}

    /** {@code call}'s result, computed on a thread with a large stack; its exceptions are rethrown as they are. */
    public static <T> T call(Supplier<T> call) {
        if (Thread.currentThread().getName().equals("llama-java-deep-native")) {
            return call.get();
        }
        Future<T> f = THREADS.submit(call::get);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a native call", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        }
    }
}
