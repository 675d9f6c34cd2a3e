package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/** A generation or a prompt evaluation cancelled from another thread stops promptly; the context stays usable. */
class CancellationTest {
    @TempDir
    Path tmp;

    @Test
    void abortFromAnotherThreadDuringGeneration() throws Exception {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp));
             Context ctx = m.createContext(ContextParams.builder().contextSize(512)
                     .overflow(OverflowPolicy.shift(4)).build());
             Sequence s = ctx.newSequence();
             Sampler sampler = Sampler.builder().temperature(1f).dist(1).build()) {
            AbortSignal signal = new AbortSignal();
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<Completion> running = CompletableFuture.supplyAsync(() -> s.generate(
                    m.vocabulary().tokenize("Once upon a time"), sampler, GenerateOptions.builder()
                            .maxTokens(Integer.MAX_VALUE).abortSignal(signal).onText(t -> started.countDown()).build()));
            assertTrue(started.await(30, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            signal.abort();
            Completion c = running.get(10, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(FinishReason.CANCELLED, c.finishReason());
            assertTrue(ms < 5000, "returned " + ms + " ms after abort");
            // the context is usable again, with the same thread or another
            Completion after = s.generate(m.vocabulary().tokenize("Once upon a time"), sampler,
                    GenerateOptions.maxTokens(5));
            assertEquals(5, after.tokens().length);
        }
    }

    @Test
    void abortDuringPromptEvaluation() throws Exception {
        // a wider model and a long prompt, so that evaluating it takes many batches
        Path p = tmp.resolve("wide.gguf");
        new LlamaModelWriter(new ModelShape(256, 4, 4, 4, 1024, 4096), TestSupport.tinyVocabulary()).write(p);
        try (Model m = Model.load(p);
             Context ctx = m.createContext(ContextParams.builder().contextSize(4096).batchSize(64).ubatchSize(64).build());
             Sequence s = ctx.newSequence();
             Sampler sampler = Sampler.greedy()) {
            int[] prompt = new int[4000];
            Arrays.fill(prompt, m.vocabulary().tokenize("the", false, false)[0]);
            AbortSignal signal = new AbortSignal();
            CompletableFuture<Completion> running = CompletableFuture.supplyAsync(
                    () -> s.generate(prompt, sampler, GenerateOptions.builder().maxTokens(5).abortSignal(signal).build()));
            Thread.sleep(300);
            signal.abort();
            Completion c = running.get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.CANCELLED, c.finishReason());
            assertEquals(0, c.tokens().length);
            assertTrue(s.length() < prompt.length, "stopped part-way through the prompt: " + s.length());
            // the evaluated part is kept and the sequence knows exactly what it holds
            assertTrue(Arrays.equals(Arrays.copyOf(prompt, s.length()), s.tokens()));
            assertEquals(3, s.generate(Arrays.copyOf(prompt, 10), sampler, GenerateOptions.maxTokens(3)).tokens().length);
        }
    }

    @Test
    void abortedBeforeStartReturnsAtOnce() {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp));
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler sampler = Sampler.greedy()) {
            AbortSignal signal = new AbortSignal();
            signal.abort();
            Completion early = s.generate(m.vocabulary().tokenize("Once"), sampler,
                    GenerateOptions.builder().maxTokens(5).abortSignal(signal).build());
            assertEquals(FinishReason.CANCELLED, early.finishReason());
            assertEquals(0, early.tokens().length);
            s.append(m.vocabulary().tokenize("Once"));
            Completion c = s.generate(sampler, GenerateOptions.builder().maxTokens(5).abortSignal(signal).build());
            assertEquals(FinishReason.CANCELLED, c.finishReason());
            assertEquals(0, c.tokens().length);
        }
    }
}
