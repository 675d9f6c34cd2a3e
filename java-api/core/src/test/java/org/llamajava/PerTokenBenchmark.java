package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.IntPointer;
import org.llamajava.bindings.llama_context;
import org.llamajava.bindings.llama_context_params;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.gguf.VocabularySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The per-token Java path, apart from llama_decode's compute, on a model so small (one 8-wide
 * layer) that a decode is almost all fixed cost. Run with {@code ci/jmh.sh} (adds JMH's gc
 * profiler for allocation per token).
 *
 * <ul>
 *   <li>{@code rawDecode}: the generated bindings alone, as native code would call llama.cpp;</li>
 *   <li>{@code apiAppend}: the same token through {@link Sequence#append}: the difference to
 *       {@code rawDecode} is the API's own per-token overhead;</li>
 *   <li>{@code apiGenerate}: a whole generated token: sampling, piece conversion, UTF-8 and
 *       evaluation, per token;</li>
 *   <li>{@code sampleGreedy}, {@code piece}: the sampling JNI call and the piece conversion alone.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PerTokenBenchmark {
    static final int TOKENS = 64;

    Path dir;
    Model model;
    Context context;
    Sequence sequence;
    Sampler greedy;
    llama_context raw;
    IntPointer rawToken;
    int[][] one;
    int[] prompt;
    GenerateOptions options;
    int next;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = Files.createTempDirectory("jmh");
        Path p = dir.resolve("micro.gguf");
        new LlamaModelWriter(new ModelShape(8, 1, 2, 1, 16, 512),
                VocabularySpec.byteFallback(List.of("▁the", "▁a", "e", "t"))).write(p);
        model = Model.load(p);
        context = model.createContext(ContextParams.builder().contextSize(TOKENS + 64).threads(1).build());
        sequence = context.newSequence();
        greedy = Sampler.greedy();
        one = new int[TOKENS][1];
        for (int i = 0; i < TOKENS; i++) {
            one[i][0] = 3 + (i * 37) % 250;
        }
        prompt = new int[] {1, 40, 41};
        options = GenerateOptions.maxTokens(TOKENS);
        try (llama_context_params cp = llama_context_default_params()) {
            cp.n_ctx(TOKENS + 64).n_threads(1).n_threads_batch(1);
            raw = llama_init_from_model(model.handle(), cp);
        }
        rawToken = new IntPointer(1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        llama_free(raw);
        rawToken.close();
        greedy.close();
        model.close();
    }

    @Benchmark
    @OperationsPerInvocation(TOKENS)
    public int rawDecode() {
        llama_memory_clear(llama_get_memory(raw), false);
        int rc = 0;
        for (int i = 0; i < TOKENS; i++) {
            rawToken.put(0, one[i][0]);
            rc |= llama_decode(raw, llama_batch_get_one(rawToken, 1));
        }
        return rc;
    }

    @Benchmark
    @OperationsPerInvocation(TOKENS)
    public int apiAppend() {
        sequence.clear();
        for (int i = 0; i < TOKENS; i++) {
            sequence.append(one[i]);
        }
        return sequence.length();
    }

    @Benchmark
    @OperationsPerInvocation(TOKENS)
    public int apiGenerate() {
        Completion c = sequence.generate(prompt, greedy, options);
        return c.tokenCount();
    }

    @Benchmark
    public int sampleGreedy() {
        if (!context.decoder().hasLogits(sequence.id())) {
            sequence.prompt(prompt);
        }
        return context.sampleCurrent(greedy);
    }

    private final int[] pieceLength = new int[1];

    @Benchmark
    public int piece() {
        next = (next + 1) % 250;
        return context.decoder().piece(3 + next, pieceLength)[0] + pieceLength[0];
    }
}
