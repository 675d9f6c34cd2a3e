package org.llamajava;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.llamajava.bindings.llama_model_params;
import org.llamajava.bindings.llama_progress_callback;

/**
 * One model load's progress reporting. A single native callback serves every load; each load
 * is found by the id passed as the callback's user data. Internal: not part of the API.
 */
final class LoadProgress {
    private static final Map<Long, LoadProgress> ACTIVE = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();
    private static final Router ROUTER = new Router();

    private final LoadProgressListener listener;
    private final long id = IDS.incrementAndGet();
    private final LongPointer userData = new LongPointer(1);
    private volatile boolean cancelled;
    private volatile Throwable failure;

    private LoadProgress(LoadProgressListener listener) {
        this.listener = listener;
        userData.put(0, id);
    }

    public static LoadProgress start(LoadProgressListener listener) {
        LoadProgress p = new LoadProgress(listener);
        ACTIVE.put(p.id, p);
        return p;
    }

    public void install(llama_model_params params) {
        params.progress_callback(ROUTER).progress_callback_user_data(userData);
    }

    public void finish() {
        ACTIVE.remove(id);
        userData.close();
    }

    public boolean cancelled() {
        return cancelled;
    }

    /** Rethrows what the listener threw, if anything. */
    public void rethrow() {
        Throwable t = failure;
        if (t instanceof RuntimeException r) {
            throw r;
        } else if (t instanceof Error e) {
            throw e;
        } else if (t != null) {
            throw new LlamaException("load progress listener failed", t);
        }
    }

    private boolean report(float progress) {
        try {
            if (!listener.onProgress(progress)) {
                cancelled = true;
            }
        } catch (Throwable t) {
            failure = t;
            cancelled = true;
        }
        return !cancelled;
    }

    private static final class Router extends llama_progress_callback {
        @Override
        public boolean call(float progress, Pointer data) {
            if (data == null || data.isNull()) {
                return true;
            }
            LoadProgress p = ACTIVE.get(new LongPointer(data).get(0));
            return p == null || p.report(progress);
        }
    }
}
