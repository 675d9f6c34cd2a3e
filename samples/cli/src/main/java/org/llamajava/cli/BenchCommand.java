package org.llamajava.cli;

import org.llamajava.hub.ModelCache;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.FlashAttention;
import org.llamajava.GenerateOptions;
import org.llamajava.KvCacheType;
import org.llamajava.Llama;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench}: llama-bench's measurements through the public Java API, with its flags and its
 * markdown table. {@code ppN} evaluates N random tokens as a prompt (in batches of {@code -b});
 * {@code tgN} evaluates N tokens one at a time, as llama-bench does (no sampling). Each test runs
 * in full to warm up, repeatedly for at least a second (llama-bench warms up with one token; the
 * JVM also compiles the Java path then), then {@code -r} times; t/s is mean ± sample standard
 * deviation. After the
 * table: time to first token (prompt evaluation plus one greedy sample) for each ppN, median.
 * {@code -ngl} (default 99, as llama-bench) is the number of layers offloaded to a GPU; it changes
 * nothing on a machine without one.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"llama-bench's ppN/tgN tests through the Java API, printed as llama-bench's markdown table, "
                + "plus time to first token. Flags take comma-separated lists, as llama-bench's do."})
final class BenchCommand extends CliCommand {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL[,...]", defaultValue = "${env:LLAMA_ARG_MODEL}",
            description = "models (env: LLAMA_ARG_MODEL)")
    String modelList;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N[,...]", defaultValue = "512", description = "prompt lengths (default: 512)")
    String promptList;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N[,...]", defaultValue = "128", description = "generation lengths (default: 128)")
    String genList;

    @Option(names = {"-t", "--threads"}, paramLabel = "N[,...]", description = "threads (default: up to 4)")
    String threadList;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "5", description = "repetitions (default: 5)")
    int reps;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N[,...]", defaultValue = "2048", description = "batch sizes (default: 2048)")
    String batchList;

    @Option(names = {"-ub", "--ubatch-size"}, paramLabel = "N[,...]", defaultValue = "512", description = "micro-batch sizes (default: 512)")
    String ubatchList;

    @Option(names = {"-fa", "--flash-attn"}, paramLabel = "on|off|auto", defaultValue = "auto",
            description = "flash attention (default: auto)")
    String faList;

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE[,...]", defaultValue = "f16",
            description = "K cache types: f16, q8_0, q4_0 (default: f16)")
    String ctkList;

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE[,...]", defaultValue = "f16",
            description = "V cache types (default: f16)")
    String ctvList;

    @picocli.CommandLine.Mixin
    RpcOption rpc;

    @Option(names = {"-nr", "--no-repack"}, description = "keep every weight in plain CPU memory: no repacked"
            + " weights and no Intel AMX kernels (llama.cpp's --no-repack), to measure what they bring")
    boolean noRepack;

    @Option(names = {"-ngl", "--n-gpu-layers"}, paramLabel = "N[,...]", defaultValue = "99",
            description = "layers offloaded to a GPU (default: 99)")
    String nglList;

    @Override
    protected int run() {
        if (modelList == null) {
            throw new UsageException("missing -m MODEL[,MODEL...]");
        }
        List<String> models = list(modelList);
        List<Integer> prompts = ints("-p", promptList);
        List<Integer> gens = ints("-n", genList);
        List<Integer> threads = ints("-t", threadList == null
                ? Integer.toString(Math.min(4, Runtime.getRuntime().availableProcessors())) : threadList);
        List<Integer> batches = ints("-b", batchList);
        List<Integer> ubatches = ints("-ub", ubatchList);
        List<FlashAttention> fas = list(faList).stream().map(BenchCommand::flash).toList();
        List<KvCacheType> ctks = list(ctkList).stream().map(BenchCommand::cacheType).toList();
        List<KvCacheType> ctvs = list(ctvList).stream().map(BenchCommand::cacheType).toList();
        List<Integer> gpuLayers = ints("-ngl", nglList);
        for (int ngl : gpuLayers) {
            if (ngl < 0) {
                throw new UsageException("-ngl must be >= 0, not " + ngl);
            }
        }
        if (reps < 1) {
            throw new UsageException("-r must be >= 1");
        }
        // llama-bench's columns: the backend column names the loaded backends other than the CPU's
        // (else "CPU"); a GPU backend adds ngl; a flag given more than one value or a non-default
        // one adds its column (threads always shows on the CPU)
        String backend = backendColumn();
        boolean cpuBackend = backend.contains("CPU") || backend.contains("BLAS") || backend.contains("ZenDNN");
        Table table = new Table(backend, !cpuBackend, cpuBackend || threadList != null,
                !batches.equals(List.of(2048)), !ubatches.equals(List.of(512)), !ctks.equals(List.of(KvCacheType.F16)),
                !ctvs.equals(List.of(KvCacheType.F16)), !fas.equals(List.of(FlashAttention.AUTO)));
        table.header(out);
        List<String> ttft = new ArrayList<>();
        long perModel = Params.combinations(0, batches, ubatches, ctks, ctvs, fas, threads).size()
                * (prompts.stream().filter(n -> n > 0).count() + gens.stream().filter(n -> n > 0).count());
        ModelCache store = ModelCache.fromEnvironment();
        try (Progress bar = Progress.start("bench", perModel * models.size() * gpuLayers.size(), "", 1, false, err)) {
            for (String file : models) {
                for (int ngl : gpuLayers) {
                    try (Model m = Model.load(store.locate(file, Progress.downloads(err)), rpc.apply(ModelParams.builder().gpuLayers(ngl))
                            .extraBufferTypes(!noRepack).build())) {
                        for (Params p : Params.combinations(ngl, batches, ubatches, ctks, ctvs, fas, threads)) {
                            tests(out, ttft, m, table, p, prompts, gens, reps, bar);
                        }
                    }
                }
            }
        }
        out.println();
        out.println("time to first token (median of " + reps + "):");
        ttft.forEach(s -> out.println("  " + s));
        return 0;
    }

    /** The ppN and tgN rows of one parameter combination; ppN also records its time to first token. */
    private static void tests(PrintStream out, List<String> ttft, Model m, Table table, Params p,
            List<Integer> prompts, List<Integer> gens, int reps, Progress bar) {
        ContextParams.Builder cp = p.context();
        long[] done = {bar.done()};
        for (int n : prompts) {
            if (n > 0) {
                bar.message("pp" + n);
                double[] tps = measure(m, cp, n, 0, reps);
                long ttftNanos = timeToFirstToken(m, cp, n, reps);
                bar.stepTo(++done[0]);
                bar.clearLine();
                table.row(out, m, p, "pp" + n, tps);
                ttft.add(String.format(Locale.ROOT, "%s %s pp%d: %.2f ms", desc(m), table.describe(p), n,
                        ttftNanos / 1e6));
            }
        }
        for (int n : gens) {
            if (n > 0) {
                bar.message("tg" + n);
                double[] tps = measure(m, cp, 0, n, reps);
                bar.stepTo(++done[0]);
                bar.clearLine();
                table.row(out, m, p, "tg" + n, tps);
            }
        }
    }

    /**
     * Warm-up before each test: runs of it until this much time has passed (at least one run), so
     * that a test of a few milliseconds is not measured while the JIT compiler still works on its
     * path (on two cores, a compiler thread takes one from ggml's two workers).
     */
    static final long WARM_UP_NANOS = 1_000_000_000L;

    /** Tokens per second of each repetition, after the warm-up. */
    static double[] measure(Model m, ContextParams.Builder cp, int nPrompt, int nGen, int reps) {
        Random rnd = new Random(42);
        int nVocab = m.vocabulary().size();
        int first = m.vocabulary().addsBos() ? m.vocabulary().bos() : rnd.nextInt(nVocab);
        int[] prompt = new int[nPrompt];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = i == 0 ? first : rnd.nextInt(nVocab);
        }
        int[][] one = new int[nGen][1];
        for (int i = 0; i < nGen; i++) {
            one[i][0] = i == 0 ? first : rnd.nextInt(nVocab);
        }
        double[] tps = new double[reps];
        try (Context ctx = m.createContext(cp.contextSize(nPrompt + nGen).build());
             Sequence s = ctx.newSequence()) {
            long warmEnd = System.nanoTime() + WARM_UP_NANOS;
            do { // warm-up: at least one run, and runs until the JIT compiler is done with this path
                once(ctx, s, prompt, one);
            } while (System.nanoTime() < warmEnd);
            for (int r = 0; r < reps; r++) {
                tps[r] = (nPrompt + nGen) * 1e9 / once(ctx, s, prompt, one);
            }
        }
        return tps;
    }

    /** One run from an empty sequence: the prompt as one append, or the tokens one at a time; ns. */
    private static long once(Context ctx, Sequence s, int[] prompt, int[][] one) {
        s.clear();
        long t0 = System.nanoTime();
        if (prompt.length > 0) {
            s.append(prompt);
        } else {
            for (int[] token : one) {
                s.append(token);
            }
        }
        ctx.synchronize();
        return System.nanoTime() - t0;
    }

    /** Median time from an empty sequence to the first sampled token of an N-token prompt. */
    static long timeToFirstToken(Model m, ContextParams.Builder cp, int nPrompt, int reps) {
        Random rnd = new Random(7);
        int[] prompt = new int[nPrompt];
        for (int i = 0; i < nPrompt; i++) {
            prompt[i] = rnd.nextInt(m.vocabulary().size());
        }
        long[] times = new long[reps];
        try (Context ctx = m.createContext(cp.contextSize(nPrompt + 2).build());
             Sequence s = ctx.newSequence();
             Sampler greedy = Sampler.greedy()) {
            for (int r = -1; r < reps; r++) {
                s.clear();
                long t0 = System.nanoTime();
                s.generate(prompt, greedy, GenerateOptions.maxTokens(1));
                long ns = System.nanoTime() - t0;
                if (r >= 0) {
                    times[r] = ns;
                }
            }
        }
        java.util.Arrays.sort(times);
        return times[reps / 2];
    }

    /** One parameter combination. */
    private record Params(int ngl, int threads, int batch, int ubatch, KvCacheType typeK, KvCacheType typeV,
            FlashAttention fa) {
        /** Every combination, in llama-bench's order: batch, ubatch, K type, V type, flash attention, threads. */
        static List<Params> combinations(int ngl, List<Integer> batches, List<Integer> ubatches, List<KvCacheType> ctks,
                List<KvCacheType> ctvs, List<FlashAttention> fas, List<Integer> threads) {
            List<Params> out = new ArrayList<>();
            for (int b : batches) {
                for (int ub : ubatches) {
                    for (KvCacheType k : ctks) {
                        for (KvCacheType v : ctvs) {
                            for (FlashAttention fa : fas) {
                                for (int t : threads) {
                                    out.add(new Params(ngl, t, b, ub, k, v, fa));
                                }
                            }
                        }
                    }
                }
            }
            return out;
        }

        ContextParams.Builder context() {
            return ContextParams.builder().threads(threads).batchSize(batch).ubatchSize(Math.min(ubatch, batch))
                    .flashAttention(fa).keyType(typeK).valueType(typeV);
        }
    }

    /** A column of the table: llama-bench's display name, width (negative: left-aligned) and a row's value. */
    private record Column(String name, int width, Object value) {
        String cell(Object v) {
            return String.format(Locale.ROOT, width < 0 ? "%-" + (-width) + "s" : "%" + width + "s", v);
        }
    }

    /**
     * llama-bench's markdown table, with the optional columns this run needs (llama-bench adds one
     * for a flag given several values or a non-default one).
     */
    private record Table(String backend, boolean ngl, boolean threads, boolean batch, boolean ubatch, boolean typeK,
            boolean typeV, boolean fa) {
        /** The columns with one row's values; null Params (and Model) for the header. */
        private List<Column> columns(Model m, Params p, String test, String tps) {
            List<Column> c = new ArrayList<>();
            c.add(new Column("model", -30, m == null ? null : desc(m)));
            c.add(new Column("size", 10, m == null ? null : size(m.sizeBytes())));
            c.add(new Column("params", 10, m == null ? null : params(m.parameterCount())));
            c.add(new Column("backend", -10, backend));
            if (ngl) {
                c.add(new Column("ngl", 3, p == null ? null : p.ngl()));
            }
            if (threads) {
                c.add(new Column("threads", 7, p == null ? null : p.threads()));
            }
            if (batch) {
                c.add(new Column("n_batch", 7, p == null ? null : p.batch()));
            }
            if (ubatch) {
                c.add(new Column("n_ubatch", 8, p == null ? null : p.ubatch()));
            }
            if (typeK) {
                c.add(new Column("type_k", 6, p == null ? null : p.typeK().name().toLowerCase(Locale.ROOT)));
            }
            if (typeV) {
                c.add(new Column("type_v", 6, p == null ? null : p.typeV().name().toLowerCase(Locale.ROOT)));
            }
            if (fa) {
                c.add(new Column("fa", 3, p == null ? null : switch (p.fa()) {
                    case AUTO -> -1;
                    case DISABLED -> 0;
                    case ENABLED -> 1;
                }));
            }
            c.add(new Column("test", 15, test));
            c.add(new Column("t/s", 20, tps));
            return c;
        }

        void header(PrintStream out) {
            StringBuilder names = new StringBuilder("|");
            StringBuilder rule = new StringBuilder("|");
            for (Column c : columns(null, null, null, null)) {
                names.append(' ').append(c.cell(c.name())).append(" |");
                rule.append(' ').append("-".repeat(Math.abs(c.width()) - 1)).append(c.width() > 0 ? ':' : '-').append(" |");
            }
            out.println(names);
            out.println(rule);
        }

        void row(PrintStream out, Model m, Params p, String test, double[] tps) {
            double mean = 0;
            for (double x : tps) {
                mean += x;
            }
            mean /= tps.length;
            double var = 0;
            for (double x : tps) {
                var += (x - mean) * (x - mean);
            }
            double sd = tps.length > 1 ? Math.sqrt(var / (tps.length - 1)) : 0;
            StringBuilder line = new StringBuilder("|");
            for (Column c : columns(m, p, test, String.format(Locale.ROOT, "%.2f ± %.2f", mean, sd))) {
                line.append(' ').append(c.cell(c.value())).append(" |");
            }
            out.println(line);
        }

        /** The backend and the parameters that have columns, for the time-to-first-token lines. */
        String describe(Params p) {
            StringBuilder sb = new StringBuilder(backend);
            for (Column c : columns(null, p, null, null)) {
                if (c.value() != null && !c.name().equals("backend")) {
                    sb.append(' ').append(c.name()).append('=').append(c.value());
                }
            }
            return sb.toString();
        }
    }

    /**
     * The backend column as llama-bench writes it: the backend registries other than the CPU's and
     * RPC's, then RPC if it has devices (servers); "CPU" if none.
     */
    static String backendColumn() {
        List<String> names = new ArrayList<>(Llama.backendNames().stream()
                .filter(n -> !n.equals("CPU") && !n.startsWith("RPC")).toList());
        if (Llama.devices().stream().anyMatch(d -> d.name().startsWith("RPC"))) {
            names.add("RPC");
        }
        return names.isEmpty() ? "CPU" : String.join(",", names);
    }

    private static String desc(Model m) {
        String d = m.description();
        return d.length() > 30 ? d.substring(0, 30) : d;
    }

    static String size(long bytes) {
        return bytes < 1024L * 1024 * 1024 ? String.format(Locale.ROOT, "%.2f MiB", bytes / 1024.0 / 1024.0)
                : String.format(Locale.ROOT, "%.2f GiB", bytes / 1024.0 / 1024.0 / 1024.0);
    }

    static String params(long n) {
        return n < 1_000_000_000L ? String.format(Locale.ROOT, "%.2f M", n / 1e6)
                : String.format(Locale.ROOT, "%.2f B", n / 1e9);
    }

    private static List<String> list(String v) {
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return out;
    }

    private static List<Integer> ints(String flag, String v) {
        List<Integer> out = new ArrayList<>();
        for (String s : list(v)) {
            try {
                out.add(Integer.parseInt(s));
            } catch (NumberFormatException e) {
                throw new UsageException(flag + " takes integers, not '" + s + "'");
            }
        }
        return out;
    }

    private static FlashAttention flash(String v) {
        return switch (v) {
            case "1", "on" -> FlashAttention.ENABLED;
            case "0", "off" -> FlashAttention.DISABLED;
            case "auto" -> FlashAttention.AUTO;
            default -> throw new UsageException("-fa takes on, off or auto (or 1, 0), not '" + v + "'");
        };
    }

    private static KvCacheType cacheType(String v) {
        return switch (v) {
            case "f16" -> KvCacheType.F16;
            case "q8_0" -> KvCacheType.Q8_0;
            case "q4_0" -> KvCacheType.Q4_0;
            default -> throw new UsageException("cache type must be f16, q8_0 or q4_0, not '" + v + "'");
        };
    }

}
