package org.llamajava.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * One task's use of the shared models: its leases, the requests it has in flight (cancelled when
 * the task ends, however it ends: success, failure, kill or a lost speculative race), its rows'
 * error cells and metrics.
 */
final class TaskScope {
    private final TaskContext task;
    private final int partition;
    private final String model;
    private final boolean failOnError;
    private final LlamaMetrics metrics;
    private final List<AutoCloseable> onEnd = new ArrayList<>();
    private boolean ended;

    TaskScope(String model, boolean failOnError, LlamaMetrics metrics) {
        this.task = TaskContext.get();
        this.partition = task == null ? 0 : task.partitionId();
        this.model = model;
        this.failOnError = failOnError;
        this.metrics = metrics;
        if (task != null) {
            task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> end());
        }
    }

    /** Runs {@code c} when the task ends (or at once if it has). */
    synchronized void onEnd(AutoCloseable c) {
        if (ended) {
            closeQuietly(c);
        } else {
            onEnd.add(c);
        }
    }

    /** Cancels what is in flight and returns the leases; idempotent. Also called when the rows run out. */
    void end() {
        List<AutoCloseable> all;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            all = new ArrayList<>(onEnd);
            onEnd.clear();
        }
        for (int i = all.size() - 1; i >= 0; i--) { // requests before leases
            closeQuietly(all.get(i));
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // cancelling or releasing does not fail
        }
    }

    /** Waits for {@code f}, giving up (and letting Spark kill the task) once the task is killed. */
    <T> T await(CompletableFuture<T> f) {
        while (true) {
            try {
                return f.get(50, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (task != null) {
                    task.killTaskIfInterrupted();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("the task was interrupted");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof RuntimeException r ? r : new IllegalStateException(c);
            }
        }
    }

    /** The row's label in messages: partition and index in the partition (the same on a retry). */
    String label(long index) {
        return "row " + partition + ":" + index + " (model " + model + ")";
    }

    /** {@code in}'s values followed by {@code extra}. */
    static Row append(Row in, Object... extra) {
        Object[] v = new Object[in.length() + extra.length];
        for (int i = 0; i < in.length(); i++) {
            v[i] = in.get(i);
        }
        System.arraycopy(extra, 0, v, in.length(), extra.length);
        return RowFactory.create(v);
    }

    /** The output row of a success. */
    Row ok(Row in, Object value, long tokensIn, long tokensOut) {
        metrics.row(false, tokensIn, tokensOut, 0);
        return append(in, value, null);
    }

    /** The output row of a failure (or the exception, under failOnError). */
    Row failed(Row in, long index, String error) {
        String message = label(index) + ": " + error;
        if (failOnError) {
            throw new LlamaRowException(message);
        }
        metrics.row(true, 0, 0, 0);
        return append(in, null, message);
    }

    void modelTime(long nanos) {
        metrics.time(nanos);
    }
}
