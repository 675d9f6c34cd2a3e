package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy {@code llama-java generate --temp 0} continues a prompt exactly as llama.cpp's own tools do,
 * built from the same source, on stories260K (real trained weights, so the text is meaningful).
 *
 * <p>Two oracles. {@code llama-simple} is llama.cpp's minimal greedy generator, but it always runs
 * with ggml's default of 4 threads, which busy-wait between graph nodes: with fewer free cores than
 * that it takes 0.5-1.5 s per token of a 260K-parameter model on a loaded 2-vCPU box (about 20 s
 * for 32 tokens when idle); all three cases still run, in about a minute. {@code llama-completion}
 * (greedy: {@code --temp 0 --top-k 1}, one thread) is the second oracle; its output goes through common/log.cpp's asynchronous logger, which can
 * lose the tail of the output at exit (llama.cpp issue 22142), so a run counts only when the logger's
 * last lines (the final blank line and the perf report) arrived, and is retried otherwise.
 */
class CliGenerateOracleTest {
    private static final String MODEL = "stories260K.gguf";

    /** {@code threads} null: the CLI's default thread count. */
    record Case(String prompt, int n, Integer threads) {
        List<String> cliArgs(Path model) {
            List<String> a = new ArrayList<>(List.of("generate", "-m", model.toString(), "-p", prompt, "-n",
                    Integer.toString(n), "--temp", "0"));
            if (threads != null) {
                a.addAll(List.of("-t", threads.toString()));
            }
            return a;
        }

        @Override
        public String toString() {
            return "-n " + n + " -p '" + prompt + "'" + (threads == null ? "" : " -t " + threads);
        }
    }

    /**
     * The first case is the plain command line; the others pin one thread, which keeps them fast when
     * the machine is busy (with default threads a loaded 2-core box can take seconds per run).
     */
    static Stream<Case> cases() {
        return Stream.of(
                new Case("Once upon a time", 32, null),
                new Case("The little dog", 16, 1),
                new Case("Lily and Tom went to the park", 48, 1));
    }

    /**
     * One CLI run per case, shared by both oracle tests. Runs are one at a time on purpose: ggml's
     * CPU threads busy-wait, so generators running side by side on a small machine slow each other
     * down many times over, and starve llama-completion's logger (see above).
     */
    private static final Map<Case, CliTestSupport.Result> CLI = new HashMap<>();

    @TempDir
    static Path tmp;

    private static Path model;

    @BeforeAll
    static void checkJar() {
        CliTestSupport.cliJar();
    }

    private static synchronized CliTestSupport.Result runCli(Case c) {
        model = CliTestSupport.model(MODEL); // skips, or fails when the shared models are required
        return CLI.computeIfAbsent(c, k -> CliTestSupport.runCli(tmp.resolve("cli-" + c.n()),
                c.cliArgs(model).toArray(String[]::new)));
    }

    /** llama-java's stdout is the continuation followed by one newline. */
    private static String continuation(Case c) {
        CliTestSupport.Result cli = runCli(c);
        assertEquals(0, cli.exitCode(), () -> "llama-java generate failed\n" + cli.describe());
        assertTrue(cli.stdout().endsWith("\n"), () -> "stdout does not end with a newline\n" + cli.describe());
        String cont = cli.stdout().substring(0, cli.stdout().length() - 1);
        assertTrue(cont.strip().length() >= 20,
                () -> "continuation is empty or shorter than 20 characters\n" + cli.describe());
        assertTrue(!cli.stderr().lines().anyMatch(l -> l.startsWith("\tat ")),
                () -> "stack trace on stderr\n" + cli.describe());
        return cont;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void continuationMatchesLlamaCompletion(Case c) {
        String actual = continuation(c);
        String expected = llamaCompletion(tmp.resolve("completion-" + c.n()), c);
        assertEquals(expected, actual, "continuation differs from llama-completion's (greedy) for " + c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void continuationMatchesLlamaSimple(Case c) {
        CliTestSupport.model(MODEL);
        String cont = continuation(c);
        CliTestSupport.Result simple = CliTestSupport.runTool("llama-simple", tmp.resolve("simple-" + c.n()),
                Duration.ofMinutes(5), "-m", model.toString(), "-n", Integer.toString(c.n()), c.prompt());
        assertEquals(0, simple.exitCode(), () -> "llama-simple failed\n" + simple.describe());
        // stdout: the prompt's pieces (BOS "<s>" included), the continuation, one newline
        assertTrue(simple.stdout().endsWith("\n"), () -> "llama-simple's stdout has no final newline\n"
                + simple.describe());
        String all = simple.stdout().substring(0, simple.stdout().length() - 1);
        assertTrue(all.endsWith(cont), () -> "llama-simple's output does not end with llama-java's continuation\n"
                + "llama-java: " + cont + "\n" + simple.describe());
        String prefix = all.substring(0, all.length() - cont.length());
        assertTrue(prefix.startsWith("<s>") && prefix.endsWith(c.prompt()),
                () -> "llama-simple's output before the continuation is not '<s>' + the prompt: '" + prefix
                        + "'; so the continuations differ\nllama-java: " + cont + "\n" + simple.describe());
    }

    private static final int COMPLETION_TRIES = 10;

    /** llama-completion's greedy continuation, retried while its logger drops the tail of the output. */
    private static String llamaCompletion(Path work, Case c) {
        CliTestSupport.Result last = null;
        for (int attempt = 0; attempt < COMPLETION_TRIES; attempt++) {
            CliTestSupport.Result r = CliTestSupport.runTool("llama-completion", work.resolve("try-" + attempt),
                    "-m", model.toString(), "-p", c.prompt(), "-n", Integer.toString(c.n()), "--temp", "0",
                    "--top-k", "1", "--seed", "1", "-t", "1", "-no-cnv", "--no-display-prompt", "--simple-io",
                    "--no-warmup");
            if (r.exitCode() != 0) {
                fail("llama-completion failed\n" + r.describe());
            }
            last = r;
            // the generated text, then "\n\n", then the perf report on stderr: all through one FIFO logger
            if (r.stdout().endsWith("\n\n") && r.stderr().contains("common_perf_print")) {
                String text = r.stdout().substring(0, r.stdout().length() - 2);
                String eot = " [end of text]\n";
                return text.endsWith(eot) ? text.substring(0, text.length() - eot.length()) : text;
            }
        }
        fail("llama-completion's output was cut short " + COMPLETION_TRIES + " times in a row\n" + last.describe());
        return null;
    }
}
