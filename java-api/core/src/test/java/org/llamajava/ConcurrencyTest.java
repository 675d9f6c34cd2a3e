package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threads sharing one Model, each with its own Context, get exactly what one thread alone gets;
 * two threads on one Context are refused without corrupting the one that is running.
 */
class ConcurrencyTest {

    static final String[] PROMPTS = {
        "Once upon a time",
        "There was a little girl",
        "The dog and the cat",
        "Lily was a girl",
        "Tom to the play",
        "the boy and the dog",
        "She was there on a day",
        "he and she",
    };
    static final int TOKENS = 24;
    // one thread per context: this machine's CPU time is shared by all the test's threads anyway
    static final ContextParams PARAMS = ContextParams.builder().contextSize(128).batchSize(64).threads(1).build();

    @TempDir
    static Path tmp;
    static Model model;
    static int[][] reference;

    @BeforeAll
    static void loadAndGenerateAlone() {
        model = Model.load(TestSupport.writeTinyModel(tmp));
        reference = new int[PROMPTS.length][];
        for (int i = 0; i < PROMPTS.length; i++) {
            reference[i] = generate(PROMPTS[i]);
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static int[] generate(String prompt) {
        try (Context ctx = model.createContext(PARAMS); Sampler s = Sampler.greedy()) {
            Completion c = ctx.generate(model.vocabulary().tokenize(prompt), s, TOKENS, null);
            return c.tokens();
        }
    }

    /** The reference outputs differ from each other, so a thread getting another's result would show. */
    @Test
    void referenceOutputsAreDistinct() {
        Set<String> distinct = new HashSet<>();
        for (int[] r : reference) {
            assertEquals(TOKENS, r.length, "no end-of-generation token in the tiny model's greedy output");
            distinct.add(Arrays.toString(r));
        }
        assertTrue(distinct.size() >= PROMPTS.length - 1, "outputs: " + distinct);
    }

    @Test
    void eightThreadsOnOneModelMatchOneThread() throws Exception {
        int rounds = 3;
        CyclicBarrier start = new CyclicBarrier(PROMPTS.length);
        ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.length);
        try {
            List<Future<int[][]>> results = new ArrayList<>();
            for (int i = 0; i < PROMPTS.length; i++) {
                int idx = i;
                results.add(pool.submit(() -> {
                    int[][] out = new int[rounds][];
                    try (Context ctx = model.createContext(PARAMS); Sampler s = Sampler.greedy()) {
                        start.await(30, TimeUnit.SECONDS); // all eight decode at the same time
                        for (int r = 0; r < rounds; r++) {
                            ctx.clear();
                            s.reset();
                            // tokenizing from eight threads at once is part of the test
                            int[] prompt = model.vocabulary().tokenize(PROMPTS[idx]);
                            out[r] = ctx.generate(prompt, s, TOKENS, null).tokens();
                        }
                    }
                    return out;
                }));
            }
            for (int i = 0; i < PROMPTS.length; i++) {
                int[][] got = results.get(i).get(120, TimeUnit.SECONDS);
                for (int r = 0; r < rounds; r++) {
                    assertArrayEquals(reference[i], got[r], "thread " + i + " round " + r + ": " + PROMPTS[i]);
                }
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void secondThreadOnABusyContextIsRefusedAndTheFirstCompletesCorrectly() throws Exception {
        int[] promptA = model.vocabulary().tokenize(PROMPTS[0]);
        int[] promptB = model.vocabulary().tokenize(PROMPTS[1]);
        try (Context ctx = model.createContext(PARAMS); Sampler samplerA = Sampler.greedy();
             Sampler samplerB = Sampler.greedy()) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger callbacks = new AtomicInteger();
            AtomicReference<Completion> resultA = new AtomicReference<>();
            AtomicReference<Throwable> failureA = new AtomicReference<>();
            GenerateOptions blockOnFirstToken = GenerateOptions.builder().maxTokens(TOKENS).onToken(t -> {
                if (callbacks.getAndIncrement() == 0) {
                    inside.countDown();
                    try {
                        if (!release.await(60, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("never released");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }).build();
            Thread a = new Thread(() -> {
                try {
                    resultA.set(ctx.defaultSequence().generate(promptA, samplerA, blockOnFirstToken));
                } catch (Throwable t) {
                    failureA.set(t);
                }
            }, "generator-A");

            List<Throwable> refusedB = new ArrayList<>();
            AtomicReference<Throwable> unexpectedB = new AtomicReference<>();
            AtomicReference<Completion> resultB = new AtomicReference<>();
            Thread b = new Thread(() -> {
                try {
                    if (!inside.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("A never reached its callback");
                    }
                    // A is blocked inside generate, between two tokens: every call on the context is refused
                    List<Runnable> attempts = List.of(
                            () -> ctx.generate(promptB, samplerB, TOKENS, null),
                            () -> ctx.decode(promptB),
                            ctx::clear,
                            ctx::logits,
                            ctx::newSequence,
                            () -> samplerB.sample(ctx),
                            ctx::close,
                            model::close);
                    for (Runnable attempt : attempts) {
                        try {
                            attempt.run();
                        } catch (IllegalStateException e) {
                            refusedB.add(e);
                        }
                    }
                    release.countDown();
                    a.join(60_000);
                    // once A is done, the context is B's to use
                    ctx.clear();
                    resultB.set(ctx.generate(promptB, samplerB, TOKENS, null));
                } catch (Throwable t) {
                    unexpectedB.set(t);
                } finally {
                    release.countDown();
                }
            }, "generator-B");
            a.start();
            b.start();
            a.join(120_000);
            b.join(120_000);
            assertTrue(!a.isAlive() && !b.isAlive(), "threads finished");
            assertNull(failureA.get(), () -> "A failed: " + failureA.get());
            assertNull(unexpectedB.get(), () -> "B failed: " + unexpectedB.get());
            assertEquals(8, refusedB.size(), "every call of B's was refused: " + refusedB);
            for (Throwable e : refusedB) {
                assertTrue(e.getMessage().contains("generator-A"), e.getMessage());
            }
            assertNotNull(resultA.get());
            assertArrayEquals(reference[0], resultA.get().tokens(), "A's generation was not disturbed");
            assertEquals(TOKENS, callbacks.get());
            assertArrayEquals(reference[1], resultB.get().tokens(), "B generates correctly after A");
            assertTrue(!ctx.isClosed() && !model.isClosed(), "the refused closes closed nothing");
        }
    }

    /** Threads that close their own contexts while others generate on the same model. */
    @Test
    void contextsComeAndGoWhileOthersGenerate() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int idx = t;
                work.add(pool.submit(() -> {
                    for (int r = 0; r < 6; r++) {
                        int p = (idx + r) % PROMPTS.length;
                        int[] got = generate(PROMPTS[p]);
                        if (!Arrays.equals(reference[p], got)) {
                            fail("prompt " + p + ": " + Arrays.toString(got));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
    }
}
