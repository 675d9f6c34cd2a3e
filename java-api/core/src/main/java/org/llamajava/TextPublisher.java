package org.llamajava;

import java.util.Iterator;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A generation as a {@link Flow.Publisher} of text pieces (the JDK's reactive-streams interface,
 * which Reactor's {@code JdkFlowAdapter}, RxJava, Mutiny and Kotlin's {@code asFlow()} adapt), with
 * back-pressure and cancellation: a token is generated only while the subscriber has demand, so a
 * subscriber that requests nothing pauses the generation; cancelling ends it and releases the
 * {@link Context} for other calls.
 *
 * <p>The native work runs on {@code executor}, never on the subscriber's thread: a virtual thread
 * that consumes the pieces waits (parks) without holding its carrier through long native calls.
 * Use a small pool of platform threads, e.g. one per CPU, or one thread per context.
 *
 * <pre>{@code
 * ExecutorService natives = Executors.newFixedThreadPool(2);
 * Flow.Publisher<String> text = TextPublisher.of(seq, prompt, sampler, GenerateOptions.maxTokens(256), natives);
 * Flux<String> flux = JdkFlowAdapter.flowPublisherToFlux(text); // Reactor
 * }</pre>
 *
 * <p>One generation, so one subscriber: a second one gets {@code onError(IllegalStateException)}.
 * Signals follow the reactive-streams rules: serially, {@code onSubscribe} first, then at most the
 * requested {@code onNext}s, then {@code onComplete} or {@code onError}. The pieces are those of
 * {@link Sequence#stream}, and put together make the generation's text.
 */
public final class TextPublisher implements Flow.Publisher<String> {
    private final Sequence sequence;
    private final int[] prompt;
    private final Sampler sampler;
    private final GenerateOptions options;
    private final Executor executor;
    private final AtomicBoolean subscribed = new AtomicBoolean();

    private TextPublisher(Sequence sequence, int[] prompt, Sampler sampler, GenerateOptions options, Executor executor) {
        this.sequence = sequence;
        this.prompt = prompt.clone();
        this.sampler = sampler;
        this.options = options;
        this.executor = executor;
    }

    /**
     * A publisher of the text {@code sequence} generates from {@code prompt} (as
     * {@link Sequence#stream(int[], Sampler, GenerateOptions)}), generated on {@code executor} when a
     * subscriber asks for it.
     */
    public static TextPublisher of(Sequence sequence, int[] prompt, Sampler sampler, GenerateOptions options,
                                   Executor executor) {
        if (sequence == null || prompt == null || sampler == null || options == null || executor == null) {
            throw new IllegalArgumentException("sequence, prompt, sampler, options and executor are required");
        }
        return new TextPublisher(sequence, prompt, sampler, options, executor);
    }

    @Override
    public void subscribe(Flow.Subscriber<? super String> subscriber) {
        if (subscriber == null) {
            throw new NullPointerException("subscriber"); // rule 1.9
        }
        if (!subscribed.compareAndSet(false, true)) {
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {}

                @Override
                public void cancel() {}
            });
            subscriber.onError(new IllegalStateException("a TextPublisher publishes one generation, to one subscriber"));
            return;
        }
        Pieces s = new Pieces(subscriber);
        subscriber.onSubscribe(s);
    }

    /** The subscription: a drain loop on the executor, one at a time, generating while there is demand. */
    private final class Pieces implements Flow.Subscription, Runnable {
        private final Flow.Subscriber<? super String> subscriber;
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger work = new AtomicInteger();
        private volatile boolean cancelled;
        private volatile Throwable badRequest;
        // the executor's thread only (handed over by work's atomics)
        private Stream<String> stream;
        private Iterator<String> pieces;
        private boolean done;

        Pieces(Flow.Subscriber<? super String> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                badRequest = new IllegalArgumentException("request(" + n + "): must be positive (rule 3.9)");
                cancelled = true;
            } else {
                demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            }
            schedule();
        }

        @Override
        public void cancel() {
            cancelled = true;
            schedule();
        }

        private void schedule() {
            if (work.getAndIncrement() == 0) {
                try {
                    executor.execute(this);
                } catch (RuntimeException e) { // rejected: nothing will run the loop
                    cancelled = true;
                    work.set(0);
                    subscriber.onError(e);
                }
            }
        }

        @Override
        public void run() {
            int missed = 1;
            do {
                drain();
                missed = work.addAndGet(-missed);
            } while (missed != 0);
        }

        private void drain() {
            if (done) {
                return;
            }
            try {
                if (cancelled) {
                    end();
                    if (badRequest != null) {
                        subscriber.onError(badRequest);
                    }
                    return;
                }
                while (demand.get() > 0 && !cancelled) {
                    if (pieces == null) {
                        stream = sequence.stream(prompt, sampler, options);
                        pieces = stream.iterator();
                    }
                    if (!pieces.hasNext()) {
                        end();
                        subscriber.onComplete();
                        return;
                    }
                    String piece = pieces.next();
                    demand.decrementAndGet();
                    subscriber.onNext(piece);
                }
                if (cancelled) {
                    end();
                    if (badRequest != null) {
                        subscriber.onError(badRequest);
                    }
                }
            } catch (RuntimeException | Error e) {
                end();
                subscriber.onError(e);
            }
        }

        /** Ends the generation (if it started), releasing the context; no signal after it. */
        private void end() {
            done = true;
            if (stream != null) {
                stream.close();
                stream = null;
                pieces = null;
            }
        }
    }
}
