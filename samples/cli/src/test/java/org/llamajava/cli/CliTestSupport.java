package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.opentest4j.TestAbortedException;

/**
 * Runs the {@code llama-java} CLI jar and llama.cpp's own tools as subprocesses, and finds the
 * jar, the tools and the shared test models from the system properties that surefire passes:
 * {@code llama.cli.jar}, {@code llama.build.properties}, {@code llama.models.dir}.
 */
final class CliTestSupport {
    private CliTestSupport() {}

    /** Limit for one CLI or tool run; far above what a healthy run takes (well under a second). */
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    /** JVM flags for the CLI subprocess: faster start-up only, nothing that changes the CLI's behaviour. */
    private static final List<String> JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private static final ExecutorService POOL = Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                Thread t = new Thread(r, "cli-test-runner");
                t.setDaemon(true);
                return t;
            });

    private static Properties build;

    /** What one subprocess did. */
    record Result(List<String> command, int exitCode, String stdout, String stderr, Path workDir) {
        List<String> stderrLines() {
            return stderr.lines().collect(Collectors.toList());
        }

        /** The whole run, for assertion messages. */
        String describe() {
            return "command: " + command.stream().map(CliTestSupport::quote).collect(Collectors.joining(" "))
                    + "\nexit: " + exitCode + "\nstdout: " + clip(stdout) + "\nstderr: " + clip(stderr);
        }
    }

    // ---- locations -------------------------------------------------------------------------

    private static String requiredProperty(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            fail("system property " + name + " is not set; run the tests through Maven (samples/pom.xml sets it)");
        }
        return v;
    }

    /** samples/target/llama-java.jar. */
    static Path cliJar() {
        Path jar = Path.of(requiredProperty("llama.cli.jar"));
        if (!Files.isRegularFile(jar)) {
            fail("CLI jar not found: " + jar.toAbsolutePath() + " (build it first: mvn -o install -DskipTests)");
        }
        return jar;
    }

    static synchronized Properties buildProperties() {
        if (build == null) {
            Path p = Path.of(requiredProperty("llama.build.properties"));
            Properties props = new Properties();
            try (InputStream in = Files.newInputStream(p)) {
                props.load(in);
            } catch (IOException e) {
                fail("cannot read llama build properties " + p.toAbsolutePath() + ": " + e);
            }
            props.setProperty("out.dir", p.toAbsolutePath().getParent().toString());
            build = props;
        }
        return build;
    }

    /** The pinned llama.cpp source tree. */
    static Path llamaSource() {
        String s = buildProperties().getProperty("llama.source.dir");
        if (s == null) {
            fail("llama.source.dir missing from " + System.getProperty("llama.build.properties"));
        }
        return Path.of(s);
    }

    /** A llama.cpp tool built from the same source, e.g. {@code llama-tokenize}. */
    static Path tool(String name) {
        Path p = Path.of(buildProperties().getProperty("out.dir"), "bin", name);
        if (!Files.isExecutable(p)) {
            fail("llama.cpp tool not found or not executable: " + p + " (the native build should have made it)");
        }
        return p;
    }

    private static Path toolLibDir() {
        return Path.of(buildProperties().getProperty("out.dir"), "lib");
    }

    /** Whether the tests must fail, rather than skip, when the shared models are missing. */
    static boolean sharedRequired() {
        return Boolean.parseBoolean(System.getProperty("llama.require.shared", "false"))
                || "true".equalsIgnoreCase(System.getenv("CI"));
    }

    static Path modelsDir() {
        return Path.of(System.getProperty("llama.models.dir", "../shared/models"));
    }

    /** Whether the shared model exists (no skipping, no failing). */
    static boolean hasModel(String name) {
        return Files.isRegularFile(modelsDir().resolve(name));
    }

    /**
     * A model from the shared models folder. Missing: the test is skipped, or fails when
     * {@code llama.require.shared=true} or {@code CI=true}.
     */
    static Path model(String name) {
        Path p = modelsDir().resolve(name).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            String why = Files.isDirectory(modelsDir()) ? "shared model " + p + " is missing"
                    : "shared models folder " + modelsDir().toAbsolutePath().normalize() + " is missing";
            if (sharedRequired()) {
                fail(why + " (required: llama.require.shared=true or CI=true)");
            }
            assumeTrue(false, why + "; skipping (set -Dllama.require.shared=true to make this a failure)");
        }
        return p;
    }

    // ---- running ---------------------------------------------------------------------------

    /** {@code java -jar llama-java.jar ARGS} in {@code workDir}. */
    static Result runCli(Path workDir, String... args) {
        return runCliWithInput(workDir, null, args);
    }

    /** {@code java -jar llama-java.jar ARGS} in {@code workDir}, reading {@code stdin} (UTF-8; null: none). */
    static Result runCliWithInput(Path workDir, String stdin, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.add("-jar");
        cmd.add(cliJar().toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        return run(cmd, Map.of(), workDir, TIMEOUT, stdin);
    }

    /** A llama.cpp tool with its shared libraries on LD_LIBRARY_PATH. */
    static Result runTool(String name, Path workDir, Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(tool(name).toString());
        cmd.addAll(List.of(args));
        String lib = toolLibDir().toString();
        String old = System.getenv("LD_LIBRARY_PATH");
        return run(cmd, Map.of("LD_LIBRARY_PATH", old == null || old.isEmpty() ? lib : lib + ":" + old), workDir,
                timeout);
    }

    static Result runTool(String name, Path workDir, String... args) {
        return runTool(name, workDir, TIMEOUT, args);
    }

    /** Runs a command with stdin closed; stdout and stderr go to files so neither can block it. */
    static Result run(List<String> cmd, Map<String, String> env, Path workDir, Duration timeout) {
        return run(cmd, env, workDir, timeout, null);
    }

    /**
     * Runs a command that reads {@code stdin} (from a file, so it cannot block; null: stdin closed);
     * stdout and stderr go to files so neither can block it.
     */
    static Result run(List<String> cmd, Map<String, String> env, Path workDir, Duration timeout, String stdin) {
        Path out = null;
        Path err = null;
        Path in = null;
        try {
            Files.createDirectories(workDir);
            out = Files.createTempFile("cli-test", ".out");
            err = Files.createTempFile("cli-test", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            if (stdin != null) {
                in = Files.writeString(Files.createTempFile("cli-test", ".in"), stdin, StandardCharsets.UTF_8);
                pb.redirectInput(in.toFile());
            }
            pb.environment().putAll(env);
            Process p = pb.start();
            if (stdin == null) {
                p.getOutputStream().close();
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                fail("timed out after " + timeout.toSeconds() + " s: " + new Result(cmd, -1, text(out), text(err),
                        workDir).describe());
            }
            return new Result(cmd, p.exitValue(), text(out), text(err), workDir);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + cmd, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
            deleteQuietly(in);
        }
    }

    /**
     * A file's text as UTF-8, a malformed sequence read as U+FFFD (as llama-java decodes a piece):
     * random-weight models emit byte tokens that are no whole character.
     */
    private static String text(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temp file; nothing to do
            }
        }
    }

    /** Starts work on the shared pool so that subprocesses of a test class overlap. */
    static <T> Future<T> submit(Callable<T> work) {
        return POOL.submit(work);
    }

    /** The result of submitted work; assertion failures and skips inside it surface as themselves. */
    static <T> T await(Future<T> f) {
        try {
            return f.get(5, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof AssertionError a) {
                throw a;
            }
            if (c instanceof TestAbortedException t) {
                throw t;
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new AssertionError(c);
        } catch (TimeoutException e) {
            throw new AssertionError("background run did not finish in 5 minutes", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The last line of the text that is not blank, trimmed; "" if none. */
    static String lastNonEmptyLine(String text) {
        List<String> lines = text.lines().map(String::strip).filter(s -> !s.isEmpty()).collect(Collectors.toList());
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    /** Files that a crashing JVM leaves behind in its working directory. */
    static List<Path> hsErrFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("hs_err_pid.*\\.log")).collect(Collectors.toList());
        } catch (IOException e) {
            throw new AssertionError("cannot list " + dir, e);
        }
    }

    /** A name safe for a folder, from a test case's description. */
    static String safeName(String s) {
        String n = s.replaceAll("[^A-Za-z0-9._-]+", "_");
        return n.length() > 60 ? n.substring(0, 60) : n;
    }

    static String quote(String s) {
        return s.matches("[A-Za-z0-9_./=:+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    private static String clip(String s) {
        String t = s.length() > 3000 ? s.substring(0, 3000) + "... (" + s.length() + " chars)" : s;
        return t.isEmpty() ? "(empty)" : "\n" + t;
    }

    /**
     * A {@code serve} child of the CLI jar: its process, the base URL its first stdout line (the
     * banner) names, and the file its stderr goes to. {@link #close()} sends SIGTERM and waits for
     * it to stop.
     */
    record Served(Process process, String url, String banner, Path err) implements AutoCloseable {
        private static final java.util.regex.Pattern LISTENING =
                java.util.regex.Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+) ");

        /** What it has written to stderr so far. */
        String stderr() {
            try {
                return Files.readString(err);
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy(); // SIGTERM
            org.junit.jupiter.api.Assertions.assertTrue(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS),
                    "serve stops on SIGTERM");
        }
    }

    /** Starts {@code serve ARGS} in {@code dir} and waits for the line that says where it listens. */
    static Served serve(Path dir, String... args) throws IOException {
        return serve(dir, java.util.Map.of(), args);
    }

    /** Starts {@code serve ARGS} in {@code dir} with these environment variables added. */
    static Served serve(Path dir, java.util.Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", cliJar().toAbsolutePath().toString(), "serve"));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "serve", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        Served s = new Served(p, null, null, err);
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8));
        String first = out.readLine();
        java.util.regex.Matcher m = first == null ? null : Served.LISTENING.matcher(first);
        if (m == null || !m.find()) {
            p.destroyForcibly();
            fail("serve did not say where it listens: " + first + "; stderr: " + s.stderr());
        }
        return new Served(p, m.group(1), first, err);
    }
}
