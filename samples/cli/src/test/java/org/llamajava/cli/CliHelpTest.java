package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Help and usage errors of every command (picocli): {@code COMMAND --help} prints the usage with
 * llama.cpp's flag names on stdout and exits 0; an unknown flag exits 2 with a short {@code error:}
 * message naming the command's help; typos get suggestions; {@code --version} names llama-java's
 * version, the pinned llama.cpp source and the backend; LLAMA_ARG_* variables give defaults; and
 * {@code completion} prints a bash completion script.
 */
class CliHelpTest {
    /** Each command and flags its help must show. */
    static final Map<String, List<String>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("generate", List.of("-m, --model", "-p, --prompt", "-n, --n-predict", "--temp", "-s, --seed",
                "--top-k", "--top-p", "--min-p", "-c, --ctx-size", "-t, --threads", "-b, --batch-size", "-ngl",
                "-j, --json-schema", "--grammar", "LLAMA_ARG_CTX_SIZE", "--rpc", "-ot, --override-tensor",
                "-cmoe, --cpu-moe", "-ncmoe, --n-cpu-moe", "-md, --model-draft", "--draft-max", "--draft-min",
                "--draft-p-min", "-td, --threads-draft", "--spec-type", "--lookup", "--lora=FNAME",
                "--lora-scaled=FNAME:SCALE[,...]", "--control-vector=FNAME", "--control-vector-scaled=FNAME:SCALE[,...]",
                "--control-vector-layer-range=START END"));
        COMMANDS.put("chat", List.of("-m, --model", "--chat-template", "--system", "--history-file", "--tools",
                "--reasoning-format", "--temp", "Alt-Enter", "--rpc", "--lora=FNAME", "--lora-scaled", "--control-vector=FNAME",
                "--control-vector-scaled", "--control-vector-layer-range"));
        COMMANDS.put("tokenize", List.of("-m, --model", "-p, --prompt", "--no-bos", "--no-parse-special"));
        COMMANDS.put("embed", List.of("-m, --model", "--pooling", "--embd-normalize", "--embd-output-format"));
        COMMANDS.put("rerank", List.of("-m, --model", "-q, --query", "-f, --file", "--top-k"));
        COMMANDS.put("serve", List.of("-m, --model", "--host", "--port", "-np, --parallel", "--api-key",
                "--embeddings", "LLAMA_ARG_PORT", "--rpc", "-ot, --override-tensor", "--lora=FNAME", "--lora-scaled",
                "--control-vector=FNAME", "--control-vector-scaled", "--control-vector-layer-range"));
        COMMANDS.put("pull", List.of("REF", "--models-dir", "hf:ORG/REPO", "MODEL_ENDPOINT"));
        COMMANDS.put("models", List.of("--models-dir"));
        COMMANDS.put("bench", List.of("-m, --model", "-p, --n-prompt", "-n, --n-gen", "-r, --repetitions", "-fa",
                "-ctk", "-ngl", "--rpc"));
        COMMANDS.put("rpc-server", List.of("-H, --host", "-p, --port", "-t, --threads", "-d, --device", "-c, --cache",
                "unauthenticated"));
        COMMANDS.put("inspect", List.of("MODEL"));
        COMMANDS.put("write-model", List.of("-o, --output", "--shape", "--vocab-from"));
        COMMANDS.put("quantize", List.of("--allow-requantize", "--leave-output-tensor", "--pure", "--imatrix",
                "--output-tensor-type", "--token-embedding-type", "--keep-split", "IN", "OUT", "TYPE", "THREADS"));
        COMMANDS.put("json-schema-to-grammar", List.of("FILE|-"));
        COMMANDS.put("completion", List.of("source"));
    }

    @TempDir
    static Path tmp;

    private static final Map<String, Future<CliTestSupport.Result>> RUNS = new HashMap<>();

    private static void start(String name, Map<String, String> env, String... args) {
        Path work = tmp.resolve(CliTestSupport.safeName(name));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
                CliTestSupport.cliJar().toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        RUNS.put(name, CliTestSupport.submit(() -> CliTestSupport.run(cmd, env, work, CliTestSupport.TIMEOUT)));
    }

    private static CliTestSupport.Result result(String name) {
        return CliTestSupport.await(RUNS.get(name));
    }

    static Stream<String> commands() {
        return COMMANDS.keySet().stream();
    }

    @BeforeAll
    static void startRuns() throws IOException {
        for (String c : COMMANDS.keySet()) {
            start("help " + c, Map.of(), c, "--help");
            start("bad flag " + c, Map.of(), c, "--no-such-flag");
        }
        start("top help", Map.of(), "--help");
        start("no command", Map.of());
        start("version", Map.of(), "--version");
        start("typo flag", Map.of(), "generate", "-m", "x.gguf", "-p", "x", "--top_k", "3");
        start("typo command", Map.of(), "genrate", "-m", "x.gguf");
        start("env model", Map.of("LLAMA_ARG_MODEL", tmp.resolve("env-model.gguf").toString()), "generate", "-p", "x");
        start("env bad number", Map.of("LLAMA_ARG_N_PREDICT", "lots"), "generate", "-m", "x.gguf", "-p", "x");
        start("completion", Map.of(), "completion");
    }

    @ParameterizedTest(name = "{0} --help")
    @MethodSource("commands")
    void everyCommandHasHelp(String command) {
        CliTestSupport.Result r = result("help " + command);
        assertEquals(0, r.exitCode(), r::describe);
        assertTrue(r.stdout().startsWith("Usage: llama-java " + command), r::describe);
        for (String flag : COMMANDS.get(command)) {
            assertTrue(r.stdout().contains(flag), () -> "help does not show " + flag + "\n" + r.describe());
        }
        assertTrue(r.stdout().contains("-h, --help"), r::describe);
        assertEquals("", r.stderr(), r::describe);
    }

    @ParameterizedTest(name = "{0} --no-such-flag")
    @MethodSource("commands")
    void everyCommandRejectsAnUnknownFlag(String command) {
        CliTestSupport.Result r = result("bad flag " + command);
        assertEquals(2, r.exitCode(), r::describe);
        List<String> err = r.stderrLines();
        assertEquals("error: Unknown option: '--no-such-flag'", err.get(0), r::describe);
        assertEquals("usage: llama-java " + command + " [FLAGS]; 'llama-java " + command + " --help' lists them",
                err.get(err.size() - 1), r::describe);
        assertTrue(err.size() <= 3, r::describe);
        assertEquals("", r.stdout(), r::describe);
    }

    @Test
    void theTopLevelHelpListsEveryCommand() {
        CliTestSupport.Result help = result("top help");
        assertEquals(0, help.exitCode(), help::describe);
        CliTestSupport.Result none = result("no command");
        assertEquals(2, none.exitCode(), none::describe);
        assertEquals("", none.stdout(), none::describe);
        for (String c : COMMANDS.keySet()) {
            assertTrue(help.stdout().contains("  " + c + " "), () -> c + " missing\n" + help.describe());
            assertTrue(none.stderr().contains("  " + c + " "), () -> c + " missing\n" + none.describe());
        }
    }

    @Test
    void versionNamesLlamaJavaLlamaCppAndTheBackend() {
        CliTestSupport.Result r = result("version");
        assertEquals(0, r.exitCode(), r::describe);
        List<String> lines = r.stdout().lines().toList();
        assertEquals(4, lines.size(), r::describe);
        assertTrue(lines.get(0).matches("llama-java \\d+\\.\\d+\\.\\d+.*"), r::describe);
        String source = CliTestSupport.buildProperties().getProperty("llama.source.id");
        String backend = CliTestSupport.buildProperties().getProperty("llama.backend");
        assertEquals("llama.cpp " + source + " (build: " + backend + ")", lines.get(1), r::describe);
        assertTrue(lines.get(2).startsWith("backends: ") && lines.get(2).contains("CPU"), r::describe);
        // whether AMX is used: CliQuantizedTest checks it against llama-completion's own buffers
        assertTrue(lines.get(3).startsWith("CPU extra buffer types: ") && lines.get(3).contains("; AMX: "), r::describe);
    }

    @Test
    void typosGetSuggestions() {
        CliTestSupport.Result flag = result("typo flag");
        assertEquals(2, flag.exitCode(), flag::describe);
        assertTrue(flag.stderr().contains("--top-k"), flag::describe);
        CliTestSupport.Result command = result("typo command");
        assertEquals(2, command.exitCode(), command::describe);
        assertTrue(command.stderrLines().get(0).startsWith("error: unknown command 'genrate'"), command::describe);
        assertTrue(command.stderr().contains("llama-java generate"), command::describe);
    }

    @Test
    void llamaArgEnvironmentVariablesGiveDefaults() {
        CliTestSupport.Result model = result("env model");
        assertEquals(1, model.exitCode(), model::describe);
        assertTrue(model.stderr().contains("env-model.gguf"), () -> "LLAMA_ARG_MODEL not used\n" + model.describe());
        CliTestSupport.Result n = result("env bad number");
        assertEquals(2, n.exitCode(), n::describe);
        assertTrue(n.stderr().contains("'lots'"), () -> "LLAMA_ARG_N_PREDICT not used\n" + n.describe());
    }

    @Test
    void completionPrintsABashScript() {
        CliTestSupport.Result r = result("completion");
        assertEquals(0, r.exitCode(), r::describe);
        assertTrue(r.stdout().startsWith("#!/usr/bin/env bash"), r::describe);
        for (String s : List.of("complete -F", "generate", "pull", "--n-predict", "--models-dir")) {
            assertTrue(r.stdout().contains(s), () -> s + " missing from the completion script");
        }
    }
}
