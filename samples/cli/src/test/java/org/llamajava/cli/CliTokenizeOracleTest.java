package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code llama-java tokenize} prints the same ids as llama.cpp's {@code llama-tokenize --ids},
 * built from the same source, for each model, prompt and flag combination.
 */
class CliTokenizeOracleTest {
    private static final List<String> MODELS = List.of("llama-2-tiny-random.gguf", "stories260K.gguf");

    private static final String SPECIAL_PROMPT = "<s>Hello</s> world";

    private static final List<String> PROMPTS = List.of(
            "Hello world",
            " Hello world",
            "Hello 🦙 world",
            "你好世界",
            SPECIAL_PROMPT,
            " ");

    /**
     * The CLI takes llama-tokenize's flag names, so the same flags go to both. Both switches
     * together only for the prompt with special-token text, where they interact (saves JVM starts).
     */
    private static final List<List<String>> FLAG_SETS = List.of(
            List.of(),
            List.of("--no-bos"),
            List.of("--no-parse-special"));
    private static final List<String> BOTH_FLAGS = List.of("--no-bos", "--no-parse-special");

    record Case(String model, String prompt, List<String> flags) {
        @Override
        public String toString() {
            return model + " " + (flags.isEmpty() ? "(default)" : String.join(" ", flags)) + " -p "
                    + CliTestSupport.quote(prompt);
        }
    }

    /** [cli, oracle] for each case, started together in {@link #startRuns()}. */
    private static final Map<Case, Future<CliTestSupport.Result[]>> RUNS = new HashMap<>();

    @TempDir
    static Path tmp;

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (String m : MODELS) {
            for (List<String> f : FLAG_SETS) {
                for (String p : PROMPTS) {
                    cases.add(new Case(m, p, f));
                }
            }
            cases.add(new Case(m, SPECIAL_PROMPT, BOTH_FLAGS));
        }
        return cases.stream();
    }

    @BeforeAll
    static void startRuns() {
        CliTestSupport.cliJar();
        CliTestSupport.tool("llama-tokenize");
        int i = 0;
        for (Case c : cases().toList()) {
            if (!CliTestSupport.hasModel(c.model())) {
                continue; // the test itself skips, or fails when the shared models are required
            }
            Path work = tmp.resolve("case-" + i++);
            String model = CliTestSupport.model(c.model()).toString();
            RUNS.put(c, CliTestSupport.submit(() -> {
                List<String> cli = new ArrayList<>(List.of("tokenize", "-m", model, "-p", c.prompt()));
                cli.addAll(c.flags());
                List<String> oracle = new ArrayList<>(List.of("-m", model, "-p", c.prompt(), "--ids", "--log-disable"));
                oracle.addAll(c.flags());
                return new CliTestSupport.Result[] {
                    CliTestSupport.runCli(work, cli.toArray(String[]::new)),
                    CliTestSupport.runTool("llama-tokenize", work, oracle.toArray(String[]::new))
                };
            }));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void idsMatchLlamaTokenize(Case c) {
        CliTestSupport.model(c.model());
        if (!StandardCharsets.US_ASCII.newEncoder().canEncode(c.prompt())) {
            String enc = System.getProperty("sun.jnu.encoding", "?");
            assumeTrue(enc.equalsIgnoreCase("UTF-8"), "this JVM passes command-line arguments as " + enc
                    + ", not UTF-8, so a non-ASCII prompt cannot reach the subprocesses intact; run under a UTF-8 locale");
        }
        CliTestSupport.Result[] r = CliTestSupport.await(RUNS.get(c));
        CliTestSupport.Result cli = r[0];
        CliTestSupport.Result oracle = r[1];
        assertEquals(0, oracle.exitCode(), () -> "llama-tokenize failed\n" + oracle.describe());
        String expected = CliTestSupport.lastNonEmptyLine(oracle.stdout());
        assertTrue(expected.matches("\\[(\\d+(, \\d+)*)?\\]"),
                () -> "llama-tokenize --ids printed no id list\n" + oracle.describe());

        assertEquals(0, cli.exitCode(), () -> "llama-java tokenize failed\n" + cli.describe());
        assertEquals(expected, cli.stdout().strip(),
                () -> "ids differ from llama-tokenize's\n" + cli.describe() + "\n--- oracle ---\n" + oracle.describe());
    }
}
