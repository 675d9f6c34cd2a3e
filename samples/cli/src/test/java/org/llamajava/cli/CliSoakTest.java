package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak ({@code org.llamajava.samples.Soak}, what {@code ci/soak.sh} runs) with its full default
 * counts on stories260K: 1,000 model load/close cycles and 10,000 context create/use/close cycles
 * in one JVM, resident memory growth under 5% after warm-up in both, no non-daemon thread left,
 * and a JVM that exits promptly once main returns. About a minute on 2 cores.
 */
class CliSoakTest {
    @TempDir
    Path tmp;

    /** ci/soak.sh's JVM flags: a fixed, pre-touched heap and C1 only (see there why). */
    private static final List<String> JVM_FLAGS = List.of("-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch",
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    /** ci/soak.sh's environment: glibc's mmap threshold fixed (see Soak's javadoc why). */
    private static final Map<String, String> ENV = Map.of("MALLOC_MMAP_THRESHOLD_", "131072");

    private static final Pattern PHASE = Pattern.compile(
            "^  (models|contexts): (\\d+) cycles in .* growth (-?\\d+\\.\\d+)% (ok|FAIL).*$");
    private static final Pattern UPTIME = Pattern.compile("JVM uptime (\\d+) ms");

    private CliTestSupport.Result soak(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.add("-cp");
        cmd.add(CliTestSupport.cliJar().toAbsolutePath().toString());
        cmd.add("org.llamajava.samples.Soak");
        cmd.addAll(List.of(args));
        return CliTestSupport.run(cmd, ENV, tmp.resolve("soak"), timeout);
    }

    @Test
    void defaultCountsKeepResidentMemoryFlatAndLeaveNoThreads() {
        Path model = CliTestSupport.model("stories260K.gguf");
        long t0 = System.nanoTime();
        CliTestSupport.Result r = soak(Duration.ofMinutes(10), "--model", model.toString());
        long ranMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, r.exitCode(), () -> "the soak failed\n" + r.describe());
        System.out.println(r.stdout()); // the numbers, in the failsafe report

        Map<String, Double> growth = new LinkedHashMap<>();
        Map<String, Long> cycles = new LinkedHashMap<>();
        for (String line : r.stdout().lines().toList()) {
            Matcher m = PHASE.matcher(line);
            if (m.matches()) {
                cycles.put(m.group(1), Long.parseLong(m.group(2)));
                growth.put(m.group(1), Double.parseDouble(m.group(3)));
            }
        }
        assertEquals(Map.of("models", 1000L, "contexts", 10000L), cycles, () -> "phase lines\n" + r.describe());
        growth.forEach((phase, pct) -> assertTrue(pct < 5.0,
                () -> phase + ": RSS grew by " + pct + "% after warm-up\n" + r.describe()));
        assertTrue(r.stdout().contains("non-daemon besides main: none"), () -> "threads left\n" + r.describe());
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("result: PASS")), r::describe);

        // main returned (no System.exit on success): the JVM must then exit at once
        Matcher up = UPTIME.matcher(r.stdout());
        assertTrue(up.find(), () -> "no JVM uptime in the result line\n" + r.describe());
        long exitMs = ranMs - Long.parseLong(up.group(1));
        assertTrue(exitMs < 10_000, () -> "the JVM took " + exitMs + " ms to exit after the summary\n" + r.describe());
    }

    @Test
    void badArgumentsExitWithStatusTwo() {
        for (String[] args : new String[][] {{"--duration", "5x"}, {"--models", "0"}, {"--nope", "1"},
                {"--model", tmp.resolve("missing.gguf").toString()}}) {
            CliTestSupport.Result r = soak(CliTestSupport.TIMEOUT, args);
            assertEquals(2, r.exitCode(), r::describe);
            assertTrue(r.stderr().startsWith("error: "), r::describe);
        }
    }
}
