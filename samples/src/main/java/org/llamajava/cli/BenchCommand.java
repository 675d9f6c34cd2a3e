package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
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
final class BenchCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(new String[][] {{"-m", "--model"}, {"-p", "--n-prompt"}, {"-n", "--n-gen"}, {"-t", "--threads"},
                {"-r", "--repetitions"}, {"-b", "--batch-size"}, {"-ub", "--ubatch-size"}, {"-fa", "--flash-attn"},
                {"-ctk", "--cache-type-k"}, {"-ctv", "--cache-type-v"}, {"-ngl", "--n-gpu-layers"}});
        List<String> models = list(args.require("-m", "MODEL[,MODEL...]"));
        List<Integer> prompts = ints(args, "-p", "512");
        List<Integer> gens = ints(args, "-n", "128");
        List<Integer> threads = ints(args, "-t", Integer.toString(Math.min(4, Runtime.getRuntime().availableProcessors())));
        List<Integer> batches = ints(args, "-b", "2048");
        List<Integer> ubatches = ints(args, "-ub", "512");
        List<FlashAttention> fas = list(args.get("-fa") == null ? "auto" : args.get("-fa")).stream()
                .map(BenchCommand::flash).toList();
        List<KvCacheType> ctks = list(args.get("-ctk") == null ? "f16" : args.get("-ctk")).stream()
                .map(BenchCommand::cacheType).toList();
        List<KvCacheType> ctvs = list(args.get("-ctv") == null ? "f16" : args.get("-ctv")).stream()
                .map(BenchCommand::cacheType).toList();
        List<Integer> gpuLayers = ints(args, "-ngl", "99");
        for (int ngl : gpuLayers) {
            if (ngl < 0) {
                throw new Args.UsageException("-ngl must be >= 0, not " + ngl);
            }
        }
        int reps = args.getInt("-r", 5);
        if (reps < 1) {
            throw new Args.UsageException("-r must be >= 1");
        }
        // llama-bench's columns: the backend column names the loaded backends other than the CPU's
        // (else "CPU"); a GPU backend adds ngl; a flag given more than one value or a non-default
        // one adds its column (threads always shows on the CPU)
        List<String> gpus = Llama.backendNames().stream().filter(n -> !n.equals("CPU")).toList();
        String backend = gpus.isEmpty() ? "CPU" : String.join(",", gpus);
        Table table = new Table(backend, !gpus.isEmpty(), gpus.isEmpty() || args.get("-t") != null,
                !batches.equals(List.of(2048)), !ubatches.equals(List.of(512)), !ctks.equals(List.of(KvCacheType.F16)),
                !ctvs.equals(List.of(KvCacheType.F16)), !fas.equals(List.of(FlashAttention.AUTO)));
        table.header(out);
        List<String> ttft = new ArrayList<>();
        for (String file : models) {
            for (int ngl : gpuLayers) {
                try (Model m = Model.load(Path.of(file), ModelParams.builder().gpuLayers(ngl).build())) {
                    for (Params p : Params.combinations(ngl, batches, ubatches, ctks, ctvs, fas, threads)) {
                        tests(out, ttft, m, table, p, prompts, gens, reps);
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
            List<Integer> prompts, List<Integer> gens, int reps) {
        ContextParams.Builder cp = p.context();
        for (int n : prompts) {
            if (n > 0) {
                table.row(out, m, p, "pp" + n, measure(m, cp, n, 0, reps));
                ttft.add(String.format(Locale.ROOT, "%s %s pp%d: %.2f ms", desc(m), table.describe(p), n,
                        timeToFirstToken(m, cp, n, reps) / 1e6));
            }
        }
        for (int n : gens) {
            if (n > 0) {
                table.row(out, m, p, "tg" + n, measure(m, cp, 0, n, reps));
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

    private static List<Integer> ints(Args args, String flag, String def) {
        String v = args.get(flag) == null ? def : args.get(flag);
        List<Integer> out = new ArrayList<>();
        for (String s : list(v)) {
            try {
                out.add(Integer.parseInt(s));
            } catch (NumberFormatException e) {
                throw new Args.UsageException(flag + " takes integers, not '" + s + "'");
            }
        }
        return out;
    }

    private static FlashAttention flash(String v) {
        return switch (v) {
            case "1", "on" -> FlashAttention.ENABLED;
            case "0", "off" -> FlashAttention.DISABLED;
            case "auto" -> FlashAttention.AUTO;
            default -> throw new Args.UsageException("-fa takes on, off or auto (or 1, 0), not '" + v + "'");
        };
    }

    private static KvCacheType cacheType(String v) {
        return switch (v) {
            case "f16" -> KvCacheType.F16;
            case "q8_0" -> KvCacheType.Q8_0;
            case "q4_0" -> KvCacheType.Q4_0;
            default -> throw new Args.UsageException("cache type must be f16, q8_0 or q4_0, not '" + v + "'");
        };
    }

    @Override
    public String usage() {
        return "-m MODEL[,...] [-p N,...] [-n N,...] [-t N,...] [-r REPS] [-b N,...] [-ub N,...] [-fa on|off|auto]"
                + " [-ctk f16|q8_0|q4_0] [-ctv ...]";
    }
}
