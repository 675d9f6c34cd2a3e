package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TextPublisher}: the pieces make the text {@code generate} gives; nothing is generated past
 * the subscriber's demand (the sequence stops growing); cancelling ends the generation (no more
 * signals, the context free for the next call); one subscriber; {@code request(0)} is an error.
 * Waiting for the executor to run a marker task, queued after the publisher's work on its one
 * thread, tells when that work is done, without timing.
 */
class TextPublisherTest {
    @TempDir
    Path tmp;
    Model model;
    Context ctx;
    ExecutorService natives;
    int[] prompt;
    static final int MAX = 64;

    @BeforeEach
    void open() {
        model = Model.load(TestSupport.writeTinyModel(tmp));
        ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build());
        natives = Executors.newSingleThreadExecutor();
        prompt = model.vocabulary().tokenize("Once upon a time the little girl");
    }

    @AfterEach
    void close() throws InterruptedException {
        natives.shutdown();
        assertTrue(natives.awaitTermination(30, TimeUnit.SECONDS));
        ctx.close();
        model.close();
    }

    /** Returns once the executor has run everything queued before now. */
    void settle() throws Exception {
        natives.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }

    /** Records the signals it gets. */
    static final class Recorder implements Flow.Subscriber<String> {
        final List<String> pieces = new CopyOnWriteArrayList<>();
        final CompletableFuture<Throwable> end = new CompletableFuture<>();
        volatile Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(String item) {
            pieces.add(item);
        }

        @Override
        public void onError(Throwable t) {
            end.complete(t);
        }

        @Override
        public void onComplete() {
            end.complete(null);
        }
    }

    @Test
    void thePiecesMakeTheGeneratedText() throws Exception {
        String expected;
        try (Context other = model.createContext(ContextParams.builder().contextSize(256).threads(1).build());
             Sequence s = other.newSequence(); Sampler greedy = Sampler.greedy()) {
            expected = s.generate(prompt, greedy, GenerateOptions.maxTokens(MAX)).text();
        }
        try (Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            Recorder r = new Recorder();
            TextPublisher.of(seq, prompt, greedy, GenerateOptions.maxTokens(MAX), natives).subscribe(r);
            r.subscription.request(Long.MAX_VALUE);
            assertNull(r.end.get(60, TimeUnit.SECONDS), "completed");
            assertEquals(expected, String.join("", r.pieces));
            assertTrue(r.pieces.size() > 1, r.pieces.toString());
        }
    }

    @Test
    void nothingIsGeneratedPastTheDemand() throws Exception {
        try (Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            Recorder r = new Recorder();
            TextPublisher.of(seq, prompt, greedy, GenerateOptions.maxTokens(MAX), natives).subscribe(r);
            settle();
            assertEquals(0, seq.length(), "nothing evaluated before the first request");
            r.subscription.request(1);
            settle();
            assertEquals(1, r.pieces.size());
            int paused = seq.length();
            assertTrue(paused > prompt.length && paused < prompt.length + MAX / 2,
                    "one piece's tokens and no more: " + paused);
            r.subscription.request(2);
            settle();
            assertEquals(3, r.pieces.size());
            assertTrue(seq.length() > paused && seq.length() < prompt.length + MAX / 2, "" + seq.length());
            assertTrue(!r.end.isDone(), "not finished");
        }
    }

    @Test
    void cancellingEndsTheGenerationAndFreesTheContext() throws Exception {
        try (Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            Recorder r = new Recorder();
            TextPublisher.of(seq, prompt, greedy, GenerateOptions.maxTokens(MAX), natives).subscribe(r);
            r.subscription.request(2);
            settle();
            assertEquals(2, r.pieces.size());
            int stopped = seq.length();
            r.subscription.cancel();
            r.subscription.request(10); // after cancel: nothing
            settle();
            assertEquals(2, r.pieces.size());
            assertTrue(!r.end.isDone(), "no terminal signal after cancel");
            assertEquals(stopped, seq.length(), "no token generated after the cancel");
            // the context is free: this thread generates on it
            Completion c = seq.generate(prompt, greedy, GenerateOptions.maxTokens(4));
            assertEquals(4, c.tokenCount());
        }
    }

    @Test
    void oneSubscriberAndPositiveRequests() throws Exception {
        try (Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            TextPublisher p = TextPublisher.of(seq, prompt, greedy, GenerateOptions.maxTokens(MAX), natives);
            Recorder first = new Recorder();
            p.subscribe(first);
            Recorder second = new Recorder();
            p.subscribe(second);
            assertInstanceOf(IllegalStateException.class, second.end.get(10, TimeUnit.SECONDS));
            first.subscription.request(0);
            assertInstanceOf(IllegalArgumentException.class, first.end.get(30, TimeUnit.SECONDS));
            assertEquals(List.of(), first.pieces);
        }
    }
}
