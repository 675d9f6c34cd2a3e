package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code llama-java bench} prints llama-bench's table: for the same flags, llama-bench (built from
 * the same source) is the oracle for the header, the rows and every column but the measured t/s,
 * which must be a positive {@code mean ± stddev}; after the table, one time to first token per ppN.
 */
class CliBenchTest {
    private static final String MODEL = "stories260K.gguf";
    /**
     * Two flash-attention settings and two thread counts (four parameter combinations, in
     * llama-bench's order), and non-default batch sizes, which add columns as in llama-bench.
     */
    private static final String[] FLAGS = {"-p", "16", "-n", "4", "-r", "2", "-t", "1,2", "-fa", "on,off", "-b", "256",
        "-ub", "128"};
    private static final Pattern TPS = Pattern.compile("(\\d+\\.\\d{2}) ± (\\d+\\.\\d{2})");

    @TempDir
    static Path tmp;

    private static Future<CliTestSupport.Result> cli;
    private static Future<CliTestSupport.Result> oracle;

    @BeforeAll
    static void start() {
        if (!CliTestSupport.hasModel(MODEL) && !CliTestSupport.sharedRequired()) {
            return; // the test skips
        }
        String model = CliTestSupport.model(MODEL).toString();
        String[] args = new String[FLAGS.length + 3];
        args[0] = "bench";
        args[1] = "-m";
        args[2] = model;
        System.arraycopy(FLAGS, 0, args, 3, FLAGS.length);
        cli = CliTestSupport.submit(() -> CliTestSupport.runCli(tmp.resolve("cli"), args));
        String[] toolArgs = new String[FLAGS.length + 4];
        toolArgs[0] = "-m";
        toolArgs[1] = model;
        System.arraycopy(FLAGS, 0, toolArgs, 2, FLAGS.length);
        toolArgs[FLAGS.length + 2] = "-o";
        toolArgs[FLAGS.length + 3] = "md";
        oracle = CliTestSupport.submit(() -> CliTestSupport.runTool("llama-bench", tmp.resolve("tool"), toolArgs));
    }

    private static List<String> tableLines(String stdout) {
        return stdout.lines().filter(l -> l.startsWith("|")).toList();
    }

    private static List<String> cells(String row) {
        return List.of(row.substring(1, row.length() - 1).split("\\|", -1));
    }

    @Test
    void tableMatchesLlamaBench() {
        CliTestSupport.model(MODEL);
        CliTestSupport.Result r = CliTestSupport.await(cli);
        CliTestSupport.Result o = CliTestSupport.await(oracle);
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals(0, o.exitCode(), o::describe);
        List<String> mine = tableLines(r.stdout());
        List<String> theirs = tableLines(o.stdout());
        assertEquals(2 + 2 * 2 * 2, theirs.size(), () -> "llama-bench's table\n" + o.describe());
        assertEquals(theirs.size(), mine.size(), () -> "rows\n" + r.describe() + "\n" + o.describe());
        assertEquals(theirs.get(0), mine.get(0), "header");
        assertEquals(theirs.get(1), mine.get(1), "header rule");
        for (int i = 2; i < theirs.size(); i++) {
            List<String> a = cells(mine.get(i));
            List<String> b = cells(theirs.get(i));
            assertEquals(b.size(), a.size(), "columns of row " + i);
            assertEquals(b.subList(0, b.size() - 1), a.subList(0, a.size() - 1), "row " + i + " but t/s");
            String tps = a.get(a.size() - 1);
            assertEquals(b.get(b.size() - 1).length(), tps.length(), "t/s column width, row " + i);
            Matcher m = TPS.matcher(tps.strip());
            assertTrue(m.matches(), () -> "t/s is not 'mean ± stddev': " + tps);
            assertTrue(Double.parseDouble(m.group(1)) > 0, () -> "t/s not positive: " + tps);
        }
    }

    @Test
    void timeToFirstTokenForEachPromptTest() {
        CliTestSupport.model(MODEL);
        CliTestSupport.Result r = CliTestSupport.await(cli);
        assertEquals(0, r.exitCode(), r::describe);
        List<String> ttft = r.stdout().lines().filter(l -> l.matches("\\s+.* threads=[12] .* pp16: \\d+\\.\\d{2} ms")).toList();
        assertEquals(4, ttft.size(), r::describe);
        for (String l : ttft) {
            double ms = Double.parseDouble(l.replaceAll(".*: (\\S+) ms$", "$1"));
            assertTrue(ms > 0 && ms < 60_000, l);
        }
    }
}
