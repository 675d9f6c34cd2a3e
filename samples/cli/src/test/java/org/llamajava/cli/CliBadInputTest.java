package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
 * Bad model files and bad command lines: the CLI exits 1 (bad file) or 2 (usage), says so on the
 * first line of stderr with "error:", keeps stderr short, prints no Java stack trace, prints nothing
 * on stdout, and does not crash the JVM (no hs_err_pid*.log in its working directory).
 */
class CliBadInputTest {
    /** A bad model file; the last two are cut from stories260K.gguf. */
    enum BadFile {
        MISSING(false), DIRECTORY(false), EMPTY(false), WRONG_MAGIC(false), TRUNCATED_HEADER(true),
        TRUNCATED_TENSOR_DATA(true);

        final boolean needsModel;

        BadFile(boolean needsModel) {
            this.needsModel = needsModel;
        }
    }

    /** One bad command line and the exit status it must give. */
    record Case(String name, int exit, int maxStderrLines, BadFile file, String... args) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String MODEL = "stories260K.gguf";
    /** A bad-file message is one line; allow a little slack. */
    private static final int MAX_FILE_ERROR_LINES = 3;
    /** A usage error may add the usage text (at most one line per command). */
    private static final int MAX_USAGE_ERROR_LINES = 8;
    private static final String FILE = "$FILE";

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (BadFile f : BadFile.values()) {
            String n = f.name().toLowerCase();
            cases.add(new Case("tokenize " + n, 1, MAX_FILE_ERROR_LINES, f, "tokenize", "-m", FILE, "-p", "Hello"));
            cases.add(new Case("generate " + n, 1, MAX_FILE_ERROR_LINES, f, "generate", "-m", FILE, "-p", "Hello",
                    "-n", "4", "--temp", "0"));
            cases.add(new Case("inspect " + n, 1, MAX_FILE_ERROR_LINES, f, "inspect", FILE));
            cases.add(new Case("chat " + n, 1, MAX_FILE_ERROR_LINES, f, "chat", "-m", FILE, "--chat-template",
                    "chatml"));
        }
        // usage errors: the model path is never read, so any path will do
        String m = "no-such-model.gguf";
        int u = MAX_USAGE_ERROR_LINES;
        cases.add(new Case("tokenize unknown flag", 2, u, null, "tokenize", "-m", m, "-p", "Hello", "--bogus"));
        cases.add(new Case("generate unknown flag", 2, u, null, "generate", "-m", m, "-p", "Hello", "--frobnicate"));
        cases.add(new Case("inspect unknown flag", 2, u, null, "inspect", "--bogus", m));
        cases.add(new Case("tokenize missing -m", 2, u, null, "tokenize", "-p", "Hello"));
        cases.add(new Case("generate missing -m", 2, u, null, "generate", "-p", "Hello", "-n", "4"));
        cases.add(new Case("inspect missing model", 2, u, null, "inspect"));
        cases.add(new Case("tokenize -m without value", 2, u, null, "tokenize", "-p", "Hello", "-m"));
        cases.add(new Case("generate -n not a number", 2, u, null, "generate", "-m", m, "-p", "Hello", "-n", "many"));
        cases.add(new Case("chat unknown flag", 2, u, null, "chat", "-m", m, "--frobnicate"));
        cases.add(new Case("chat missing -m", 2, u, null, "chat", "--chat-template", "chatml"));
        cases.add(new Case("chat --temp not a number", 2, u, null, "chat", "-m", m, "--temp", "hot"));
        // checked before the model is read
        cases.add(new Case("chat unknown chat template", 1, 1, null, "chat", "-m", m, "--chat-template",
                "no-such-template"));
        cases.add(new Case("unknown command", 2, u, null, "frobnicate", "-m", m));
        cases.add(new Case("generate -ngl negative", 2, u, null, "generate", "-m", m, "-p", "Hello", "-ngl", "-1"));
        cases.add(new Case("bench -ngl negative", 2, u, null, "bench", "-m", m, "-ngl", "0,-2"));
        cases.add(new Case("bench -r 0", 2, u, null, "bench", "-m", m, "-r", "0"));
        cases.add(new Case("bench -p not a number", 2, u, null, "bench", "-m", m, "-p", "lots"));
        return cases.stream();
    }

    @TempDir
    static Path tmp;

    private static final Map<String, Future<CliTestSupport.Result>> RUNS = new HashMap<>();

    @BeforeAll
    static void startRuns() throws IOException {
        CliTestSupport.cliJar();
        Path files = Files.createDirectories(tmp.resolve("files"));
        Map<BadFile, Path> paths = new HashMap<>();
        paths.put(BadFile.MISSING, files.resolve("missing.gguf"));
        paths.put(BadFile.DIRECTORY, Files.createDirectories(files.resolve("directory.gguf")));
        paths.put(BadFile.EMPTY, Files.write(files.resolve("empty.gguf"), new byte[0]));
        paths.put(BadFile.WRONG_MAGIC, Files.write(files.resolve("wrong-magic.gguf"),
                "this is not a GGUF model file\n".repeat(64).getBytes(StandardCharsets.US_ASCII)));
        if (CliTestSupport.hasModel(MODEL)) {
            byte[] model = Files.readAllBytes(CliTestSupport.modelsDir().resolve(MODEL));
            paths.put(BadFile.TRUNCATED_HEADER, Files.write(files.resolve("truncated-header.gguf"),
                    Arrays.copyOf(model, 16)));
            paths.put(BadFile.TRUNCATED_TENSOR_DATA, Files.write(files.resolve("truncated-data.gguf"),
                    Arrays.copyOf(model, model.length - 1000)));
        }
        for (Case c : cases().toList()) {
            Path file = c.file() == null ? null : paths.get(c.file());
            if (c.file() != null && file == null) {
                continue; // needs the shared model; the test itself skips or fails
            }
            String[] args = Stream.of(c.args()).map(a -> a.equals(FILE) ? file.toString() : a)
                    .toArray(String[]::new);
            Path work = tmp.resolve("work").resolve(CliTestSupport.safeName(c.name()));
            RUNS.put(c.name(), CliTestSupport.submit(() -> CliTestSupport.runCli(work, args)));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void failsCleanly(Case c) {
        if (c.file() != null && c.file().needsModel) {
            CliTestSupport.model(MODEL); // skips, or fails when the shared models are required
        }
        CliTestSupport.Result r = CliTestSupport.await(RUNS.get(c.name()));
        List<String> err = r.stderrLines();

        assertEquals(c.exit(), r.exitCode(), () -> "exit status\n" + r.describe());
        assertFalse(err.isEmpty(), () -> "nothing on stderr\n" + r.describe());
        assertTrue(err.get(0).startsWith("error:"),
                () -> "stderr's first line does not start with 'error:'\n" + r.describe());
        assertTrue(err.size() <= c.maxStderrLines(), () -> "stderr has " + err.size() + " lines, more than "
                + c.maxStderrLines() + "\n" + r.describe());
        assertTrue(err.stream().noneMatch(l -> l.startsWith("\tat ") || l.startsWith("Exception in thread")
                || l.startsWith("Caused by:")), () -> "Java stack trace on stderr\n" + r.describe());
        assertTrue(err.stream().noneMatch(l -> l.contains("A fatal error has been detected")),
                () -> "the JVM crashed\n" + r.describe());
        assertEquals("", r.stdout(), () -> "an error must print nothing on stdout\n" + r.describe());
        assertEquals(List.of(), CliTestSupport.hsErrFiles(r.workDir()),
                () -> "the JVM crashed: hs_err file in the working directory\n" + r.describe());
    }
}
