import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.Sampler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * llama-bench's ppN and tgN through de.kherud:llama 4.2.0, the Java binding one would otherwise
 * use, printed as llama-bench's markdown table (ci/bench.sh parses it). Run with Java 17's source
 * launcher, in a process of its own (the jar ships its own llama.cpp, build 4916, c6af2161):
 *
 *   java -cp llama-4.2.0.jar ci/kherud/KherudBench.java -m MODEL [-p 512] [-n 128] [-t 2] [-r 5] [-fa on|off] [-v]
 *
 * The binding wraps llama.cpp's server: a request is JSON, it is queued to a server thread that
 * owns the context, and each token comes back as a result through a queue. It returns no timings
 * (the server logs its own with -v), so both tests are timed with System.nanoTime around whole
 * requests:
 *
 * - tgN: prompt "" (the server tokenizes it to [BOS]), N tokens, ignore EOS. The server decodes
 *   BOS, then each sampled token but the last: N single-token decodes from an empty context, as
 *   llama-bench's tgN (BOS, then N-1 random tokens). t/s = N / time from the request to the final
 *   result, so it also includes N samplings and the per-token result path (JSON, queue, JNI, a
 *   third thread waking per token), which llama-bench does not have: that is the binding's cost.
 *   Sampling is as cheap as the binding allows: only the temperature sampler (0: the top token).
 * - ppN: a text that the model's tokenizer turns into N-1 tokens (one word repeated), plus the
 *   BOS the server adds: N tokens in batches of 2048 (ubatch 512), then 1 token sampled and not
 *   decoded. t/s = N / time from the request to the final result.
 *
 * Every rep evaluates from an empty cache (cache_prompt false). Each test first runs untimed,
 * repeatedly for at least a second, as in llama-java's bench. Flash attention is on by default,
 * because the pinned llama-bench's "auto" turns it on for the CPU backend (the binding's own
 * default is off). The count of streamed tokens is
 * checked: the run fails if a generation did not give exactly N tokens.
 *
 * Ends with System.exit: the binding attaches its server thread to the JVM as a non-daemon thread
 * and never detaches it, so even after close() the JVM waits for it forever when main returns.
 */
public class KherudBench {
    public static void main(String[] args) {
        int exit = 0;
        try {
            bench(args);
        } catch (Throwable e) { // LlamaException, a short generation, a bad flag
            System.err.println("kherud-bench: " + e);
            exit = 1;
        }
        System.out.flush();
        System.exit(exit); // the JVM would not exit by itself: see above
    }

    static void bench(String[] args) throws Exception {
        String model = null;
        int pp = 512, tg = 128, threads = 2, reps = 5;
        boolean flash = true, verbose = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-m" -> model = args[++i];
                case "-p" -> pp = Integer.parseInt(args[++i]);
                case "-n" -> tg = Integer.parseInt(args[++i]);
                case "-t" -> threads = Integer.parseInt(args[++i]);
                case "-r" -> reps = Integer.parseInt(args[++i]);
                case "-fa" -> flash = args[++i].equals("on");
                case "-v" -> verbose = true;
                default -> throw new IllegalArgumentException("unknown flag " + args[i]);
            }
        }
        if (model == null || pp < 2 || tg < 1 || reps < 1) {
            throw new IllegalArgumentException(
                    "usage: KherudBench -m MODEL [-p N>=2] [-n N>=1] [-t THREADS] [-r REPS] [-fa on|off] [-v]");
        }
        ModelParameters mp = new ModelParameters().setModel(model) // the jar's Linux x86_64 library is CPU-only
                .setThreads(threads).setThreadsBatch(threads)
                .setCtxSize(pp + tg).setBatchSize(2048).setUbatchSize(512).setParallel(1);
        if (flash) {
            mp.enableFlashAttn();
        }
        if (!verbose) { // -v: llama.cpp's log on stderr, with the server's own timings per request
            mp.disableLog(); // (LlamaModel.setLogger's callback receives nothing in 4.2.0)
        }
        try (LlamaModel m = new LlamaModel(mp)) {
            String name = Path.of(model).getFileName().toString();
            String size = String.format(Locale.ROOT, "%.2f MiB", Files.size(Path.of(model)) / 1048576.0);
            System.out.println("| model                          |       size |     params | backend    | threads |            test |                  t/s |");
            System.out.println("| ------------------------------ | ---------: | ---------: | ---------- | ------: | --------------: | -------------------: |");
            row(name, size, threads, "pp" + pp, run(m, promptOf(m, pp - 1), 1, pp, reps));
            row(name, size, threads, "tg" + tg, run(m, "", tg, tg, reps));
        }
    }

    /** t/s of each rep: `tokens` per second of one request of `prompt` generating `nPredict` tokens. */
    static double[] run(LlamaModel m, String prompt, int nPredict, int tokens, int reps) {
        double[] tps = new double[reps];
        long warmEnd = System.nanoTime() + 1_000_000_000L; // warm-up as llama-java bench's: at least 1 s
        do {
            once(m, prompt, nPredict);
        } while (System.nanoTime() < warmEnd);
        for (int r = 0; r < reps; r++) {
            tps[r] = tokens * 1e9 / once(m, prompt, nPredict);
        }
        return tps;
    }

    /** One request; its time in ns. */
    static long once(LlamaModel m, String prompt, int nPredict) {
        InferenceParameters ip = new InferenceParameters(prompt).setNPredict(nPredict).setIgnoreEos(true)
                .setCachePrompt(false).setTemperature(0).setSamplers(Sampler.TEMPERATURE);
        long t0 = System.nanoTime();
        int results = 0;
        for (LlamaOutput ignored : m.generate(ip)) {
            results++;
        }
        long ns = System.nanoTime() - t0;
        // one streamed result per token, then a final one with no text
        if (results - 1 != nPredict) {
            throw new IllegalStateException("asked for " + nPredict + " tokens, got " + (results - 1));
        }
        return ns;
    }

    /** A text of exactly n tokens (BOS not counted) for this model's tokenizer: one word repeated. */
    static String promptOf(LlamaModel m, int n) {
        for (String w : new String[] {" the", "the", " a", " x", "x", "."}) {
            int extra = m.encode(w.repeat(n)).length - n; // e.g. a leading "▁" token
            if (extra >= 0 && extra < n && m.encode(w.repeat(n - extra)).length == n) {
                return w.repeat(n - extra);
            }
        }
        throw new IllegalStateException("no repeated word gives a prompt of " + n + " tokens");
    }

    static void row(String model, String size, int threads, String test, double[] tps) {
        double mean = 0, var = 0;
        for (double x : tps) {
            mean += x / tps.length;
        }
        for (double x : tps) {
            var += (x - mean) * (x - mean);
        }
        double sd = tps.length > 1 ? Math.sqrt(var / (tps.length - 1)) : 0;
        System.out.printf(Locale.ROOT, "| %-30s | %10s | %10s | %-10s | %7d | %15s | %20s |%n", model, size, "-", "CPU",
                threads, test, String.format(Locale.ROOT, "%.2f ± %.2f", mean, sd));
    }
}
