package org.llamajava.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.EngineStats;

/**
 * The models of this JVM (a Spark executor, or the driver in local mode), shared by all its tasks.
 *
 * <p>A model is loaded the first time a task needs it and shared by every task that asks for the
 * same file with the same load parameters ({@link ModelSpec}); tasks hold it through a lease,
 * returned when the task ends. A model no task holds stays loaded for the next stage, until a task
 * asks for the same file with other parameters (then it is closed and the new one loaded), until
 * {@link #closeIdle()}, or until the JVM exits (a shutdown hook closes every model). The engines
 * and batchers made over a model (one per set of parameters) are closed with it.
 */
public final class ExecutorModels {
    private static final Map<SharedModel.Key, SharedModel> MODELS = new HashMap<>();
    private static final AtomicLong LOADS = new AtomicLong();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "llama-java-spark-close"));
    }

    private ExecutorModels() {}

    /** A task's hold on a shared model; closing it (once) releases the hold. */
    static final class Lease implements AutoCloseable {
        final SharedModel shared;
        private boolean closed;

        Lease(SharedModel shared) {
            this.shared = shared;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                shared.release();
            }
        }
    }

    /** Holds the model of {@code spec} (loading it if needed) until the lease is closed. */
    static Lease acquire(ModelSpec spec) {
        Path file = ModelFiles.localFile(spec).toAbsolutePath().normalize();
        SharedModel.Key key = new SharedModel.Key(file, spec.params());
        SharedModel shared;
        List<SharedModel> stale = new ArrayList<>();
        synchronized (MODELS) {
            shared = MODELS.computeIfAbsent(key, k -> new SharedModel(k, spec.source()));
            shared.retain();
            // a changed parameter takes effect: the same file under other parameters, unused, goes
            for (var it = MODELS.values().iterator(); it.hasNext(); ) {
                SharedModel m = it.next();
                if (m != shared && m.key.file().equals(file) && m.refs() == 0) {
                    stale.add(m);
                    it.remove();
                }
            }
        }
        stale.forEach(SharedModel::close);
        try {
            shared.model(); // loads outside the registry's lock: other models load in parallel
        } catch (RuntimeException | Error e) {
            shared.release();
            throw e;
        }
        return new Lease(shared);
    }

    static void countLoad() {
        LOADS.incrementAndGet();
    }

    /** How many times a model has been loaded in this JVM (for tests and monitoring). */
    public static long loads() {
        return LOADS.get();
    }

    /** Models loaded in this JVM now. */
    public static int loadedModels() {
        synchronized (MODELS) {
            return (int) MODELS.values().stream().filter(SharedModel::isLoaded).count();
        }
    }

    /**
     * Rows handed to a shared model and not finished: requests running or queued in the batching
     * engines, rows waiting in the embedding and scoring batchers. 0 once every task has ended,
     * including killed ones.
     */
    public static int activeRequests() {
        List<SharedModel> all;
        synchronized (MODELS) {
            all = List.copyOf(MODELS.values());
        }
        int n = 0;
        for (SharedModel m : all) {
            for (AutoCloseable s : m.services()) {
                if (s instanceof BatchEngine e && !e.isClosed()) {
                    EngineStats st = e.stats();
                    n += st.activeSlots() + st.queued();
                } else if (s instanceof RowBatcher<?, ?> b) {
                    n += b.pending();
                }
            }
        }
        return n;
    }

    /** Closes the models no task holds now, freeing their memory. */
    public static void closeIdle() {
        List<SharedModel> idle = new ArrayList<>();
        synchronized (MODELS) {
            for (var it = MODELS.values().iterator(); it.hasNext(); ) {
                SharedModel m = it.next();
                if (m.refs() == 0) {
                    idle.add(m);
                    it.remove();
                }
            }
        }
        idle.forEach(SharedModel::close);
    }

    private static void closeAll() {
        List<SharedModel> all;
        synchronized (MODELS) {
            all = List.copyOf(MODELS.values());
            MODELS.clear();
        }
        all.forEach(SharedModel::close);
    }

    /**
     * The cores this executor runs tasks on: {@code spark.executor.cores}, else N of a
     * {@code local[N]} master, else the machine's processors.
     */
    static int executorCores() {
        int cpus = Runtime.getRuntime().availableProcessors();
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return cpus;
        }
        SparkConf conf = env.conf();
        if (conf.contains("spark.executor.cores")) {
            return Math.max(1, conf.getInt("spark.executor.cores", cpus));
        }
        String master = conf.get("spark.master", "");
        var m = java.util.regex.Pattern.compile("local\\[(\\d+)]|local-cluster\\[\\d+,\\s*(\\d+),.*]").matcher(master);
        if (m.matches()) {
            return Math.max(1, Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2)));
        }
        return cpus;
    }
}
