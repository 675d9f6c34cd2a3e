package org.llamajava;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs {@link GgufFuzzTarget} under Jazzer for a fixed time budget, in child JVMs, and reports
 * executions and findings. Seeds and the dictionary are written by {@link GgufFuzzSeeds}.
 * Findings go to {@code DIR/findings}: a Java exception other than {@link LlamaException}, or a
 * native abort that libFuzzer catches ("deadly signal"), as libFuzzer's {@code crash-*}; a native
 * crash that kills the JVM outright as {@code native-crash-*.gguf} (the input it was loading).
 * After a native crash fuzzing restarts, until the budget is spent.
 *
 * <p>{@code GgufFuzz DIR SECONDS [LLAMA_SOURCE_DIR]}, run by {@code ci/fuzz.sh}; exits 1 if
 * anything was found. {@link GgufFuzzSmokeTest} runs it briefly in CI.
 */
public final class GgufFuzz {
    /** What a fuzzing session did. */
    record Report(int runs, long executions, int corpus, int javaFindings, int nativeCrashes, Path findings) {
        boolean clean() {
            return javaFindings == 0 && nativeCrashes == 0;
        }

        @Override
        public String toString() {
            return String.format("%d run(s), %d executions, corpus %d inputs, %d Java finding(s), %d native crash(es); "
                    + "findings in %s", runs, executions, corpus, javaFindings, nativeCrashes, findings);
        }
    }

    private static final Pattern EXECUTED = Pattern.compile("(?m)^stat::number_of_executed_units: *(\\d+)");
    private static final Pattern STATUS = Pattern.compile("(?m)^#(\\d+)\\s");

    private GgufFuzz() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]).toAbsolutePath();
        long seconds = Long.parseLong(args[1]);
        Path source = args.length > 2 && !args[2].isEmpty() ? Path.of(args[2]) : null;
        Report r = run(dir, seconds, source);
        System.out.println("fuzz: " + seconds + " s budget, " + r);
        System.exit(r.clean() ? 0 : 1);
    }

    /** Fuzzes for {@code seconds}, keeping seeds, corpus, logs and findings under {@code dir}. */
    static Report run(Path dir, long seconds, Path llamaSource) throws IOException, InterruptedException {
        Path seeds = dir.resolve("seeds");
        Path dict = dir.resolve("gguf.dict");
        GgufFuzzSeeds.write(seeds, dict, llamaSource);
        return jazzer(dir, seconds, GgufFuzzTarget.class, seeds, dict, List.of("-max_len=262144", "-timeout=60"), ".gguf");
    }

    /**
     * Runs Jazzer on {@code target} for {@code seconds} (in child JVMs, restarted after a native
     * crash), with the corpus, logs and findings under {@code dir}; the target writes each input
     * to the file named by {@code -Dllama.fuzz.input} ({@code dir/current} + {@code suffix}), kept
     * as a reproducer when the JVM dies.
     */
    static Report jazzer(Path dir, long seconds, Class<?> target, Path seeds, Path dict, List<String> options,
            String suffix) throws IOException, InterruptedException {
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        Path findings = Files.createDirectories(dir.resolve("findings"));
        Path current = dir.resolve("current" + suffix);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int runs = 0;
        long executions = 0;
        int javaFindings = 0;
        int nativeCrashes = 0;
        while (true) {
            long left = TimeUnit.NANOSECONDS.toSeconds(end - System.nanoTime());
            if (left < 5) {
                break;
            }
            runs++;
            Path log = dir.resolve("run-" + runs + ".log");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xss8m", "-Xmx1g", "-Dllama.fuzz.input=" + current, "-cp", System.getProperty("java.class.path")));
            String logging = System.getProperty("java.util.logging.config.file");
            if (logging != null) {
                cmd.add("-Djava.util.logging.config.file=" + logging);
            }
            cmd.addAll(List.of("com.code_intelligence.jazzer.Jazzer", "--target_class=" + target.getName(),
                    "--instrumentation_includes=org.llamajava.**", "--instrumentation_excludes=org.llamajava.bindings.**",
                    "--keep_going=1000", "-dict=" + dict, "-rss_limit_mb=4096"));
            cmd.addAll(options);
            cmd.addAll(List.of("-max_total_time=" + left, "-print_final_stats=1", corpus.toString(), seeds.toString()));
            Process p = new ProcessBuilder(cmd).directory(findings.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(left + 120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            String out = Files.readString(log, StandardCharsets.ISO_8859_1);
            Matcher done = EXECUTED.matcher(out);
            long n = 0;
            boolean finished = false;
            while (done.find()) {
                n = Long.parseLong(done.group(1));
                finished = true;
            }
            if (!finished) { // the JVM died without libFuzzer's final stats: keep what it was loading
                Matcher st = STATUS.matcher(out);
                while (st.find()) {
                    n = Long.parseLong(st.group(1));
                }
                nativeCrashes++;
                if (Files.exists(current)) {
                    Path keep = findings.resolve("native-crash-" + sha1(Files.readAllBytes(current)) + suffix);
                    Files.copy(current, keep, StandardCopyOption.REPLACE_EXISTING);
                    System.err.println("fuzz: the JVM died (exit " + p.exitValue() + "); input kept as " + keep + "; log " + log);
                }
            }
            executions += n;
            javaFindings += count(out, "== Java Exception");
            int deadly = count(out, "SUMMARY: libFuzzer: deadly signal");
            nativeCrashes += deadly;
            if (finished && deadly == 0 && p.exitValue() == 0) {
                break;
            }
        }
        int corpusSize;
        try (Stream<Path> s = Files.list(corpus)) {
            corpusSize = (int) s.count();
        }
        return new Report(runs, executions, corpusSize, javaFindings, nativeCrashes, findings);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static String sha1(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(data)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
