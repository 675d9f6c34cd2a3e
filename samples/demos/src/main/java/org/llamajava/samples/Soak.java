package org.llamajava.samples;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.Sampler;
import org.llamajava.Sequence;

/**
 * Soak test: many model load/close and context create/close cycles in one process, checking that
 * resident memory stays flat and that nothing is left running at the end.
 *
 * <p>Counted mode (the default) runs two phases, each with its own check, so that a leak shows
 * which path it is on: {@code --models N} load/tokenize/close cycles of the model (every 100th
 * also creates a context and generates), then {@code --contexts N} cycles on one loaded model,
 * each creating a context, evaluating a short prompt, generating a few tokens greedily and
 * closing it (every 200th also forks the sequence and saves/loads it through a file). Resident
 * memory (VmRSS from /proc/self/status, after {@link System#gc()}) is taken once the first 10%
 * of a phase's cycles are done (warm-up) and again at the phase's end; the growth between the two
 * must stay under {@code --max-growth} percent (default 5). Every greedy continuation must equal
 * the first one, so a cycle that corrupts state is caught too.
 *
 * <p>Hour-long mode ({@code --duration 1h}, or {@code 2m}, {@code 90s}, {@code 1h30m}) alternates
 * one model cycle with ten context cycles until the time is spent, prints resident memory every
 * minute, and checks the growth from the end of the first 10% of the time (warm-up) to the end.
 *
 * <p>At the end every model, context, sequence and sampler is closed, and no thread other than
 * main may be alive and non-daemon (they are printed, and the run fails). On success main returns
 * without {@link System#exit}, so a thread left behind would also keep the JVM from exiting; on
 * failure the exit status is 1 (2 for bad arguments).
 *
 * <p>Run it as {@code ci/soak.sh} does, with a fixed, pre-touched heap ({@code -Xms64m -Xmx64m
 * -XX:+AlwaysPreTouch -XX:+UseSerialGC}) and C1 only ({@code -XX:TieredStopAtLevel=1}), so that
 * RSS measures native memory: otherwise the heap resizing itself, and C2 compiling methods that run
 * once per cycle only after thousands of cycles (its arenas and code), count as growth. Measured on
 * stories260K with C2: 11.5% in the model phase and 2.8% in the context phase, against 2.2% and
 * 0.5% with C1 only. ci/soak.sh also fixes glibc's mmap threshold ({@code MALLOC_MMAP_THRESHOLD_=131072}):
 * by default glibc raises it each time a large mmapped block is freed, after which the context's
 * buffers come from the heap, where frees interleaved with other threads' allocations leave holes
 * that RSS keeps, in steps of 1 to 4 MiB at times that depend on the machine's load (6.4% in one CI
 * run on a busy machine). With the threshold fixed a freed buffer is unmapped at once, and three runs
 * under 3 busy loops on 2 cores grew by -0.3% to 0.5%; a leak still shows, since what is not freed
 * stays mapped.
 *
 * <p>{@code java -cp samples/target/llama-java.jar org.llamajava.samples.Soak [--model PATH]
 * [--models N] [--contexts N] [--duration D] [--max-growth PCT] [--ctx-size N] [--batch N]
 * [--threads N]}
 */
public final class Soak {
    private static final String PROMPT = "Once upon a time";
    private static final int GENERATE = 4;
    private static final int MODEL_EXTRA_EVERY = 100;
    private static final int CONTEXT_EXTRA_EVERY = 200;
    private static final int CONTEXTS_PER_ROUND = 10;
    // held: a logger's level is kept only while the logger is reachable
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger(
            org.llamajava.Llama.NATIVE_LOGGER);

    private final Path modelPath;
    private final ContextParams contextParams;
    private final Path stateFile;
    private int[] promptTokens;
    private int[] reference; // the greedy continuation every cycle must reproduce
    private long extras;

    private Soak(Path modelPath, ContextParams contextParams, Path stateFile) {
        this.modelPath = modelPath;
        this.contextParams = contextParams;
        this.stateFile = stateFile;
    }

    private static final String USAGE = "usage: Soak [--model PATH] [--models N] [--contexts N] [--duration D, e.g. 1h] "
            + "[--max-growth PCT] [--ctx-size N] [--batch N] [--threads N]";

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("-h") || Arrays.asList(args).contains("--help")) {
            System.out.println(USAGE);
            return;
        }
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (!Files.isRegularFile(o.model)) {
            System.err.println("error: model not found: " + o.model.toAbsolutePath());
            System.exit(2);
            return;
        }
        // llama.cpp's log: errors only (its load warnings would repeat on every model cycle)
        QUIET.setLevel(java.util.logging.Level.SEVERE);
        Path state = Files.createTempFile("llama-java-soak", ".seq");
        boolean ok;
        try {
            ContextParams cp = ContextParams.builder().contextSize(o.ctxSize).batchSize(o.batch).threads(o.threads)
                    .sequences(2).build();
            ok = new Soak(o.model, cp, state).run(o);
        } finally {
            Files.deleteIfExists(state);
        }
        if (!ok) {
            System.out.flush();
            System.exit(1);
        }
        // success: return normally, so that a non-daemon thread would keep the JVM alive
    }

    // ---- the run -------------------------------------------------------------------------------

    /** What a phase measured. */
    private record Phase(String name, long cycles, long nanos, long warmRssKb, long endRssKb, long warmHeap,
            long endHeap) {
        double growthPercent() {
            return 100.0 * (endRssKb - warmRssKb) / warmRssKb;
        }
    }

    private boolean run(Options o) throws Exception {
        try (Model vocab = Model.load(modelPath, ModelParams.builder().vocabOnly(true).build())) {
            promptTokens = vocab.vocabulary().tokenize(PROMPT);
        }
        System.out.printf(Locale.ROOT, "soak: model %s, context %d tokens (batch %d), %d thread(s), prompt \"%s\" "
                + "(%d tokens) + %d tokens greedy, max growth %.2f%%%n", modelPath, contextParams.contextSize(),
                contextParams.batchSize(), contextParams.threads(), PROMPT, promptTokens.length, GENERATE, o.maxGrowth);
        List<String> jvm = ManagementFactory.getRuntimeMXBean().getInputArguments();
        System.out.println("jvm: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version")
                + (jvm.isEmpty() ? "" : ", " + String.join(" ", jvm)));
        if (!jvm.contains("-XX:+AlwaysPreTouch") || !jvm.contains("-XX:TieredStopAtLevel=1")) {
            System.out.println("note: without a fixed, pre-touched heap (-Xms = -Xmx, -XX:+AlwaysPreTouch) the heap's own "
                    + "resizing, and without -XX:TieredStopAtLevel=1 the C2 compiler's arenas and code, count as RSS "
                    + "growth; ci/soak.sh sets these flags");
        }
        long t0 = System.nanoTime();
        List<Phase> phases = new ArrayList<>();
        if (o.durationNanos > 0) {
            phases.add(timed(o.durationNanos));
        } else {
            phases.add(modelPhase(o.models));
            phases.add(contextPhase(o.contexts));
        }
        long wall = System.nanoTime() - t0;
        return summary(phases, wall, o.maxGrowth);
    }

    /** {@code n} model load/close cycles. */
    private Phase modelPhase(long n) throws IOException {
        long warmAt = Math.max(1, n / 10);
        long warmRss = 0;
        long warmHeap = 0;
        long t0 = System.nanoTime();
        for (long i = 1; i <= n; i++) {
            modelCycle(i);
            if (i == warmAt) {
                warmRss = settledRssKb();
                warmHeap = heapUsed();
                progress("models", i, n, t0, " (warm-up done)");
            } else if (i % Math.max(1, n / 10) == 0 || i == n) {
                progress("models", i, n, t0, "");
            }
        }
        long nanos = System.nanoTime() - t0;
        return new Phase("models", n, nanos, warmRss, settledRssKb(), warmHeap, heapUsed());
    }

    /** {@code n} context create/use/close cycles over one model. */
    private Phase contextPhase(long n) throws IOException {
        try (Model model = Model.load(modelPath); Sampler greedy = Sampler.greedy()) {
            long warmAt = Math.max(1, n / 10);
            long warmRss = 0;
            long warmHeap = 0;
            long t0 = System.nanoTime();
            for (long i = 1; i <= n; i++) {
                contextCycle(model, greedy, i);
                if (i == warmAt) {
                    warmRss = settledRssKb();
                    warmHeap = heapUsed();
                    progress("contexts", i, n, t0, " (warm-up done)");
                } else if (i % Math.max(1, n / 10) == 0 || i == n) {
                    progress("contexts", i, n, t0, "");
                }
            }
            long nanos = System.nanoTime() - t0;
            return new Phase("contexts", n, nanos, warmRss, settledRssKb(), warmHeap, heapUsed());
        }
    }

    /** Alternates one model cycle with ten context cycles until {@code duration} is spent. */
    private Phase timed(long duration) throws IOException {
        long t0 = System.nanoTime();
        long warmUntil = t0 + duration / 10;
        long end = t0 + duration;
        long nextReport = t0 + TimeUnit.MINUTES.toNanos(1);
        long warmRss = 0;
        long warmHeap = 0;
        long models = 0;
        long contexts = 0;
        try (Model model = Model.load(modelPath); Sampler greedy = Sampler.greedy()) {
            long now = t0;
            while (now < end) {
                modelCycle(++models);
                for (int k = 0; k < CONTEXTS_PER_ROUND; k++) {
                    contextCycle(model, greedy, ++contexts);
                }
                now = System.nanoTime();
                if (warmRss == 0 && now >= warmUntil) {
                    warmRss = settledRssKb();
                    warmHeap = heapUsed();
                    System.out.printf(Locale.ROOT, "%7.1f s  warm-up done: %d model + %d context cycles, RSS %.1f MiB, "
                            + "heap used %.1f MiB%n", (now - t0) / 1e9, models, contexts, warmRss / 1024.0,
                            warmHeap / 1048576.0);
                }
                if (now >= nextReport) {
                    nextReport += TimeUnit.MINUTES.toNanos(1);
                    long rss = rssKb();
                    System.out.printf(Locale.ROOT, "%7.1f s  %d model + %d context cycles, RSS %.1f MiB%s, heap used "
                            + "%.1f MiB%n", (now - t0) / 1e9, models, contexts, rss / 1024.0,
                            warmRss == 0 ? "" : String.format(Locale.ROOT, " (%+.2f%% since warm-up)",
                                    100.0 * (rss - warmRss) / warmRss), heapUsed() / 1048576.0);
                }
            }
        }
        long nanos = System.nanoTime() - t0;
        System.out.printf(Locale.ROOT, "done: %d model cycles and %d context cycles in %.1f s%n", models, contexts,
                nanos / 1e9);
        long endRss = settledRssKb();
        if (warmRss == 0) { // one round took most of the time: nothing to compare
            System.out.println("note: the duration ended within the first round; no warm-up measurement");
            warmRss = endRss;
            warmHeap = heapUsed();
        }
        return new Phase("mixed (1 model : " + CONTEXTS_PER_ROUND + " contexts)", models + contexts, nanos, warmRss,
                endRss, warmHeap, heapUsed());
    }

    /** Loads the model, tokenizes the prompt, closes it; every 100th cycle also generates on it. */
    private void modelCycle(long i) {
        try (Model m = Model.load(modelPath)) {
            int[] tokens = m.vocabulary().tokenize(PROMPT);
            if (promptTokens == null) {
                promptTokens = tokens;
            } else if (!Arrays.equals(promptTokens, tokens)) {
                throw new IllegalStateException("model cycle " + i + ": the prompt tokenized differently: "
                        + Arrays.toString(tokens) + " vs " + Arrays.toString(promptTokens));
            }
            if (i % MODEL_EXTRA_EVERY == 0 || reference == null) {
                try (Context ctx = m.createContext(contextParams); Sampler greedy = Sampler.greedy()) {
                    check("model cycle " + i, ctx.generate(promptTokens, greedy, GENERATE, null));
                }
            }
        }
    }

    /**
     * Creates a context, evaluates the prompt and generates greedily, closes it. Every 200th cycle
     * the sequence is also forked and saved to a file and loaded into a second sequence; both
     * generate again from the prompt they hold (reusing the cache) and must give the same continuation.
     */
    private void contextCycle(Model model, Sampler greedy, long i) {
        if (promptTokens == null) {
            promptTokens = model.vocabulary().tokenize(PROMPT);
        }
        try (Context ctx = model.createContext(contextParams); Sequence s = ctx.newSequence()) {
            greedy.reset();
            check("context cycle " + i, s.generate(promptTokens, greedy, GenerateOptions.maxTokens(GENERATE)));
            if (i % CONTEXT_EXTRA_EVERY == 0) {
                extras++;
                s.truncate(promptTokens.length);
                try (Sequence f = s.fork()) {
                    greedy.reset();
                    check("fork in context cycle " + i,
                            f.generate(promptTokens, greedy, GenerateOptions.maxTokens(GENERATE)));
                }
                s.save(stateFile);
                try (Sequence r = ctx.newSequence()) {
                    r.load(stateFile);
                    greedy.reset();
                    check("loaded state in context cycle " + i,
                            r.generate(promptTokens, greedy, GenerateOptions.maxTokens(GENERATE)));
                }
            }
        }
    }

    private void check(String where, Completion c) {
        int[] got = c.tokens();
        if (got.length == 0) {
            throw new IllegalStateException(where + ": nothing generated (" + c.finishReason() + ")");
        }
        if (reference == null) {
            reference = got;
        } else if (!Arrays.equals(reference, got)) {
            throw new IllegalStateException(where + ": greedy continuation " + Arrays.toString(got)
                    + " differs from the first one " + Arrays.toString(reference));
        }
    }

    // ---- reporting -------------------------------------------------------------------------------

    private boolean summary(List<Phase> phases, long wall, double maxGrowth) throws IOException {
        boolean ok = true;
        System.out.println("summary:");
        for (Phase p : phases) {
            double growth = p.growthPercent();
            boolean pass = growth < maxGrowth;
            ok &= pass;
            System.out.printf(Locale.ROOT, "  %s: %d cycles in %.1f s (%.3f ms/cycle); RSS after warm-up %.1f MiB, "
                    + "at end %.1f MiB, growth %.2f%% %s; Java heap used after warm-up %.1f MiB, at end %.1f MiB%n",
                    p.name(), p.cycles(), p.nanos() / 1e9, p.nanos() / 1e6 / p.cycles(), p.warmRssKb() / 1024.0,
                    p.endRssKb() / 1024.0, growth, pass ? "ok" : "FAIL (>= " + maxGrowth + "%)",
                    p.warmHeap() / 1048576.0, p.endHeap() / 1048576.0);
        }
        if (extras > 0) {
            System.out.printf("  fork + save/load rounds: %d%n", extras);
        }
        long rss = settledRssKb();
        System.out.printf(Locale.ROOT, "  wall time %.1f s; RSS now %.1f MiB (peak %.1f MiB); Java heap used %.1f MiB "
                + "(committed %.1f MiB)%n", wall / 1e9, rss / 1024.0, status("VmHWM:") / 1024.0, heapUsed() / 1048576.0,
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / 1048576.0);
        Thread me = Thread.currentThread();
        List<Thread> left = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t != me && t.isAlive() && !t.isDaemon()) {
                left.add(t);
            }
        }
        System.out.printf("  live threads: %d (%d daemon); non-daemon besides %s: %s%n",
                ManagementFactory.getThreadMXBean().getThreadCount(),
                ManagementFactory.getThreadMXBean().getDaemonThreadCount(), me.getName(),
                left.isEmpty() ? "none" : left.size());
        for (Thread t : left) {
            System.out.printf("    %s (id %d, %s)%n", t.getName(), t.getId(), t.getState());
            for (StackTraceElement e : t.getStackTrace()) {
                System.out.println("      at " + e);
            }
        }
        ok &= left.isEmpty();
        double worst = phases.stream().mapToDouble(Phase::growthPercent).max().orElse(0);
        System.out.printf(Locale.ROOT, "result: %s (max RSS growth %.2f%%, threshold %.2f%%%s); JVM uptime %d ms%n",
                ok ? "PASS" : "FAIL", worst, maxGrowth, left.isEmpty() ? "" : "; non-daemon threads left",
                ManagementFactory.getRuntimeMXBean().getUptime());
        return ok;
    }

    private static void progress(String what, long i, long n, long t0, String note) throws IOException {
        long el = System.nanoTime() - t0;
        System.out.printf(Locale.ROOT, "%-8s %6d/%d  %7.1f s  %.3f ms/cycle  RSS %.1f MiB (anon %.1f, file %.1f)  "
                + "heap used %.1f MiB%s%n", what, i, n, el / 1e9, el / 1e6 / i, rssKb() / 1024.0,
                status("RssAnon:") / 1024.0, status("RssFile:") / 1024.0, heapUsed() / 1048576.0, note);
    }

    /**
     * RSS after the JIT compiler's queue has drained and the garbage collector (and with it the
     * Cleaner) has had a chance to run. On a busy machine the compiler lags the cycles: without the
     * wait, the warm-up reading misses compilations (their code and arenas) that the end reading
     * then counts as growth. Measured under 3 busy loops on 2 cores: 4.4% context-phase growth
     * without it, with the same end RSS as an idle run.
     */
    private static long settledRssKb() throws IOException {
        awaitCompilerIdle();
        for (int k = 0; k < 3; k++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return rssKb();
    }

    /** Waits (10 s at most) until no compilation has finished for 250 ms. */
    private static void awaitCompilerIdle() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long last = jit.getTotalCompilationTime();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jit.getTotalCompilationTime();
            if (now == last) {
                return;
            }
            last = now;
        }
    }

    private static long rssKb() throws IOException {
        return status("VmRSS:");
    }

    private static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IOException("no " + key + " in /proc/self/status (Linux only)");
    }

    private static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    // ---- arguments -------------------------------------------------------------------------------

    private static final class Options {
        Path model = Path.of("../shared/models/stories260K.gguf");
        long models = 1000;
        long contexts = 10000;
        long durationNanos;
        double maxGrowth = 5.0;
        int ctxSize = 256;
        int batch = 64;
        int threads = 1;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after " + a);
                }
                String v = args[++i];
                try {
                    switch (a) {
                        case "--model", "-m" -> o.model = Path.of(v);
                        case "--models" -> o.models = positive(a, Long.parseLong(v));
                        case "--contexts" -> o.contexts = positive(a, Long.parseLong(v));
                        case "--duration" -> o.durationNanos = duration(v);
                        case "--max-growth" -> o.maxGrowth = Double.parseDouble(v);
                        case "--ctx-size", "-c" -> o.ctxSize = (int) positive(a, Integer.parseInt(v));
                        case "--batch", "-b" -> o.batch = (int) positive(a, Integer.parseInt(v));
                        case "--threads", "-t" -> o.threads = (int) positive(a, Integer.parseInt(v));
                        default -> throw new IllegalArgumentException("unknown flag " + a);
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad number for " + a + ": " + v);
                }
            }
            return o;
        }

        private static long positive(String flag, long v) {
            if (v <= 0) {
                throw new IllegalArgumentException(flag + " must be positive; got " + v);
            }
            return v;
        }

        /** {@code 1h}, {@code 90m}, {@code 30s}, {@code 1h30m}; a bare number is seconds. */
        static long duration(String s) {
            if (s.matches("\\d+")) {
                return positive("--duration", TimeUnit.SECONDS.toNanos(Long.parseLong(s)));
            }
            Matcher m = Pattern.compile("(\\d+)([hms])").matcher(s);
            long total = 0;
            int pos = 0;
            while (m.find() && m.start() == pos) {
                long n = Long.parseLong(m.group(1));
                total += switch (m.group(2)) {
                    case "h" -> TimeUnit.HOURS.toNanos(n);
                    case "m" -> TimeUnit.MINUTES.toNanos(n);
                    default -> TimeUnit.SECONDS.toNanos(n);
                };
                pos = m.end();
            }
            if (pos != s.length() || s.isEmpty()) {
                throw new IllegalArgumentException("bad --duration " + s + " (e.g. 1h, 90m, 30s, 1h30m)");
            }
            return positive("--duration", total);
        }
    }
}
