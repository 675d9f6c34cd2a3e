package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.llamajava.internal.Jfr;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.RpcCallEvent;

/**
 * Keeps a model whose layers live on llama.cpp RPC servers from taking the process down with a
 * server. ggml's RPC client aborts the process when a server dies or stops answering properly;
 * the native guard ({@code llamajava_rpc_guard_install}) turns those aborts into a parked native
 * thread and a failure count. This side runs each native call that may reach a server (load,
 * context creation, decode and the wait for its outputs, state reads and writes, adapters, frees)
 * on a daemon worker thread and waits for it: if the failure count moves and one of the model's
 * servers no longer accepts connections, or the call outlasts the timeout, the caller gets an
 * {@link RpcServerException} and the model is marked failed. A failed model's calls throw at
 * once; its native memory is left allocated, since freeing it would wait on the dead connection
 * (and the worker that was waiting stays parked): a deliberate leak, so that the process lives.
 */
final class RpcGuard {
    private static final Logger LOG = Logger.getLogger(RpcGuard.class.getName());
    /** How often a waiting caller looks at the failure count. */
    private static final long POLL_MS = 20;
    /** Endpoints whose connection failed in this process: ggml keeps the dead one, so no reconnect. */
    private static final Set<String> FAILED = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ExecutorService WORKERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "llama-java-rpc-call-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private static volatile boolean installed;

    private final List<String> endpoints;
    private final long timeoutNanos;
    private volatile RpcServerException failure;
    /** When the call in flight last showed progress ({@link #touch()}), in nanoTime. */
    private volatile long lastProgress;

    private RpcGuard(List<String> endpoints, Duration timeout) {
        this.endpoints = List.copyOf(endpoints);
        this.timeoutNanos = timeout.toNanos();
    }

    /** The guard for a model loaded with {@code params}, or null when it uses no RPC server or no guard. */
    static RpcGuard of(ModelParams params) {
        if (params.rpcServers().isEmpty() || params.rpcTimeout().isZero()) {
            return null;
        }
        return new RpcGuard(params.rpcServers(), params.rpcTimeout());
    }

    /** A guard for one call on {@code endpoint} alone (its handshake). */
    static RpcGuard forEndpoint(String endpoint, Duration timeout) {
        return new RpcGuard(List.of(endpoint), timeout);
    }

    /** Installs the native abort guard once per process (after the natives are loaded). */
    static void install() {
        if (!installed) {
            synchronized (RpcGuard.class) {
                if (!installed) {
                    llamajava_rpc_guard_install();
                    installed = true;
                }
            }
        }
    }

    /** Whether the native guard is installed in this process. */
    static boolean isInstalled() {
        return installed;
    }

    /** Throws if {@code endpoint} failed earlier in this process. */
    static void checkNotFailed(String endpoint) {
        if (FAILED.contains(endpoint)) {
            throw new RpcServerException("RPC server " + endpoint + " failed earlier in this process, and ggml's RPC"
                    + " client keeps that broken connection for the life of the process: restart the JVM to use"
                    + " this server again", List.of(endpoint));
        }
    }

    /** Whether {@code endpoint} failed earlier in this process. */
    static boolean hasFailed(String endpoint) {
        return FAILED.contains(endpoint);
    }

    /**
     * Notes progress of the call in flight (a model load reports each tensor): the timeout counts
     * from the last progress, so that a large model uploading to a server is not cut off.
     */
    void touch() {
        lastProgress = System.nanoTime();
    }

    /** Whether a call through this guard failed: the model's native memory is then left alone. */
    boolean failed() {
        return failure != null;
    }

    /** Throws this guard's failure, if any. */
    void check() {
        RpcServerException f = failure;
        if (f != null) {
            throw f.again();
        }
    }

    /** Runs {@code call} (a native call that may reach a server) on a worker and waits for it. */
    int callInt(String what, IntCall call) {
        return call(what, () -> call.call());
    }

    /** Runs {@code call} on a worker and waits for it; see {@link #call(String, Callable)}. */
    void run(String what, Runnable call) {
        call(what, () -> {
            call.run();
            return null;
        });
    }

    /**
     * Frees native memory through {@code free} unless this guard failed; a failure while freeing
     * is logged, not thrown (close must not throw), and leaves the rest allocated.
     */
    void free(String what, Runnable free) {
        if (failed()) {
            LOG.fine(() -> what + ": not freed, its RPC server failed (" + failure.getMessage() + ")");
            return;
        }
        try {
            run(what, free);
        } catch (RpcServerException e) {
            LOG.log(Level.WARNING, what + " was not freed: " + e.getMessage());
        }
    }

    /**
     * Runs {@code call} on a worker thread and waits for it. A failed RPC server of this guard's,
     * or a call that outlasts the timeout, is an {@link RpcServerException}, and every later call
     * throws it too. Exceptions of the call itself are rethrown as they are. The llama.cpp error
     * line the worker saw becomes this thread's ({@link NativeErrors}).
     */
    <T> T call(String what, Callable<T> call) {
        RpcCallEvent event = Jfr.rpcCall() ? new RpcCallEvent() : null;
        if (event == null) {
            return callOnWorker(what, call);
        }
        event.begin();
        boolean ok = false;
        try {
            T result = callOnWorker(what, call);
            ok = true;
            return result;
        } finally {
            event.end();
            event.operation = what;
            event.servers = String.join(", ", endpoints);
            event.succeeded = ok;
            event.commit();
        }
    }

    private <T> T callOnWorker(String what, Callable<T> call) {
        check();
        int failuresBefore = llamajava_rpc_guard_failures();
        String[] nativeError = new String[1];
        Future<T> f = WORKERS.submit(() -> {
            NativeErrors.clear();
            try {
                return call.call();
            } finally {
                nativeError[0] = NativeErrors.last();
            }
        });
        long start = System.nanoTime();
        lastProgress = start;
        boolean interrupted = false;
        boolean sawFailure = false;
        try {
            while (true) {
                try {
                    T result = f.get(POLL_MS, TimeUnit.MILLISECONDS);
                    if (nativeError[0] != null) {
                        NativeErrors.record(nativeError[0]);
                    }
                    return result;
                } catch (TimeoutException e) {
                    if (!sawFailure && llamajava_rpc_guard_failures() != failuresBefore) {
                        List<String> dead = unreachable();
                        if (!dead.isEmpty()) {
                            throw fail(new RpcServerException(what + " failed: RPC server" + (dead.size() > 1 ? "s " : " ")
                                    + String.join(", ", dead) + " stopped answering (" + nativeMessage() + ")."
                                    + AFTER, dead));
                        }
                        sawFailure = true; // another model's server: keep waiting for ours
                    }
                    if (System.nanoTime() - lastProgress > timeoutNanos) {
                        throw fail(new RpcServerException(what + " got no answer from RPC server"
                                + (endpoints.size() > 1 ? "s " : " ") + String.join(", ", endpoints) + " within "
                                + Duration.ofNanos(timeoutNanos).toMillis() + " ms (ModelParams.rpcTimeout)." + AFTER,
                                endpoints));
                    }
                } catch (InterruptedException e) {
                    interrupted = true; // the native call cannot be stopped: wait for it
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new LlamaException(what + " failed: " + c, c);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static final String AFTER = " The model and its contexts can no longer be used and their native memory"
            + " is not freed (freeing needs the server); this JVM keeps running. Restart the JVM to use the server"
            + " again: ggml's RPC client does not reconnect within a process";

    private RpcServerException fail(RpcServerException e) {
        synchronized (this) {
            if (failure == null) {
                failure = e;
                FAILED.addAll(e.servers());
            }
            return failure;
        }
    }

    private List<String> unreachable() {
        List<String> dead = new ArrayList<>();
        for (String endpoint : endpoints) {
            try {
                RpcServers.checkReachable(endpoint, (int) Math.min(RpcServers.CONNECT_TIMEOUT_MS, 2000));
            } catch (LlamaException e) {
                dead.add(endpoint);
            }
        }
        return dead;
    }

    private static String nativeMessage() {
        byte[] buf = new byte[1024];
        llamajava_rpc_guard_message(buf, buf.length);
        String m = org.llamajava.internal.NativeStrings.untilNul(buf);
        int colon = m.indexOf(": ");
        return colon >= 0 && m.substring(0, colon).contains("ggml-rpc") ? m.substring(colon + 2).trim() : m.trim();
    }

    /** A native call returning an int. */
    @FunctionalInterface
    interface IntCall {
        int call();
    }
}
