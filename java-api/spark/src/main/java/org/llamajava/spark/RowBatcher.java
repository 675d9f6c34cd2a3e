package org.llamajava.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Batches the rows of every task of an executor into one single-threaded native object (an
 * Embedder or a Reranker): tasks submit chunks of rows; one worker thread takes every chunk
 * waiting, runs them as one list, and hands each task its part. So concurrent tasks fill the
 * same native batches instead of waiting on a lock.
 */
final class RowBatcher<I, O> implements AutoCloseable {
    private record Request<I, O>(List<I> items, CompletableFuture<List<Outcome<O>>> result) {}

    private final LinkedBlockingQueue<Request<I, O>> queue = new LinkedBlockingQueue<>();
    private final Function<List<I>, List<Outcome<O>>> run;
    private final AutoCloseable owned;
    private final int maxItems;
    private final Thread worker;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile boolean closing;

    /**
     * @param run      computes one outcome per item, in order (called on the worker thread only)
     * @param owned    closed by the worker thread when it stops
     * @param maxItems most items merged into one call
     */
    RowBatcher(String name, Function<List<I>, List<Outcome<O>>> run, AutoCloseable owned, int maxItems) {
        this.run = run;
        this.owned = owned;
        this.maxItems = maxItems;
        this.worker = new Thread(this::loop, name);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    /** Queues {@code items}; the future completes with one outcome per item. Cancel it to drop the items. */
    CompletableFuture<List<Outcome<O>>> submit(List<I> items) {
        if (closing) {
            throw new IllegalStateException("the shared model is closed");
        }
        CompletableFuture<List<Outcome<O>>> f = new CompletableFuture<>();
        pending.addAndGet(items.size());
        f.whenComplete((r, e) -> pending.addAndGet(-items.size()));
        queue.add(new Request<>(List.copyOf(items), f));
        return f;
    }

    /** Items submitted and not yet done or cancelled. */
    int pending() {
        return pending.get();
    }

    private void loop() {
        try {
            while (!closing) {
                Request<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                List<Request<I, O>> batch = new ArrayList<>();
                List<I> items = new ArrayList<>();
                for (Request<I, O> r = first; r != null; r = items.size() >= maxItems ? null : queue.poll()) {
                    if (!r.result().isDone()) { // a cancelled task's chunk is skipped
                        batch.add(r);
                        items.addAll(r.items());
                    }
                }
                if (batch.isEmpty()) {
                    continue;
                }
                try {
                    List<Outcome<O>> out = run.apply(items);
                    int at = 0;
                    for (Request<I, O> r : batch) {
                        int n = r.items().size();
                        r.result().complete(out.subList(at, at + n));
                        at += n;
                    }
                } catch (Throwable t) {
                    for (Request<I, O> r : batch) {
                        r.result().completeExceptionally(t);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (Request<I, O> r; (r = queue.poll()) != null; ) {
                r.result().completeExceptionally(new IllegalStateException("the shared model closed"));
            }
            try {
                owned.close();
            } catch (Exception ignored) {
                // closing a native object does not fail
            }
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
