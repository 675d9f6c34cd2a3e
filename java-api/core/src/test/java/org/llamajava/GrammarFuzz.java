package org.llamajava;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs {@link GrammarFuzzTarget} under Jazzer for a fixed time budget (through
 * {@link GgufFuzz#jazzer}) and reports executions, findings and the inputs Java refuses but
 * llama.cpp accepts. Seeds: a few grammars written here that reach every part of the syntax
 * (token references, repetitions, negated classes, escapes, comments) and, when llama.cpp's
 * source tree is given, its {@code grammars/*.gbnf}, copied into the run's directory (never
 * committed).
 *
 * <p>{@code GrammarFuzz DIR SECONDS [LLAMA_SOURCE_DIR]}, run by {@code ci/fuzz.sh grammar};
 * exits 1 if anything was found. {@link GrammarFuzzSmokeTest} runs it briefly in CI.
 */
public final class GrammarFuzz {
    static final List<String> SEEDS = List.of(
            "root ::= \"yes\" | \"no\"\n",
            "root ::= item+ \"!\"\nitem ::= [a-z] [^\\n\\x00-\\x1F\"]* ws # comment\nws ::= [ \\t]?\n",
            "root ::= (\"a\" | \"b\"){2,5} \"c\"{3} \"d\"{1,} \"e\"{,4} .\n",
            "root ::= \"\\u00e9\\U0001F600\\x41\\r\\t\\\\\\\"\" [\\u0100-\\uFFFF]\n",
            "root ::= <[5]> !<[6]> \"x\" | <s> | !<s> \"y\"\n",
            "root ::= a b\na ::= \"a\" a? \nb ::= (\"b\" (\"c\" (\"d\")?)*)+\n",
            "root ::= ( \"x\" |\n  \"y\" # end\n) [^a]\n");
    static final List<String> DICT = List.of("::=", "|", "(", ")", "*", "+", "?", "{", "}", "{1,", ",}", "[^", "[",
            "]", "\\x", "\\u", "\\U", "\\n", "\\\\", "\\\"", "<[", "]>", "!<", "<s>", "!", "#", ".", "-", "\"", "root",
            "root ::= ", "\n");

    private GrammarFuzz() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]).toAbsolutePath();
        long seconds = Long.parseLong(args[1]);
        Path source = args.length > 2 && !args[2].isEmpty() ? Path.of(args[2]) : null;
        GgufFuzz.Report r = run(dir, seconds, source);
        System.out.println("fuzz (grammar): " + seconds + " s budget, " + r + "; " + refusedAccepted(dir)
                + " input(s) Java refuses and llama.cpp accepts, in " + dir.resolve("refused-accepted"));
        System.exit(r.clean() ? 0 : 1);
    }

    /** Fuzzes for {@code seconds}, keeping seeds, corpus, logs and findings under {@code dir}. */
    static GgufFuzz.Report run(Path dir, long seconds, Path llamaSource) throws IOException, InterruptedException {
        Path seeds = Files.createDirectories(dir.resolve("seeds"));
        for (int i = 0; i < SEEDS.size(); i++) {
            Files.writeString(seeds.resolve("seed-" + i + ".gbnf"), SEEDS.get(i), StandardCharsets.UTF_8);
        }
        for (Path g : llamaGrammars(llamaSource)) {
            Files.copy(g, seeds.resolve(g.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        StringBuilder d = new StringBuilder("# GBNF syntax, for libFuzzer's -dict\n");
        for (int i = 0; i < DICT.size(); i++) {
            d.append("g").append(i).append("=\"").append(DICT.get(i).replace("\\", "\\\\").replace("\"", "\\\"")
                    .replace("\n", "\\x0A")).append("\"\n");
        }
        Path dict = dir.resolve("gbnf.dict");
        Files.writeString(dict, d, StandardCharsets.UTF_8);
        return GgufFuzz.jazzer(dir, seconds, GrammarFuzzTarget.class, seeds, dict,
                List.of("-max_len=8192", "-timeout=10"), ".gbnf");
    }

    /** llama.cpp's example grammars in its source tree; empty without one. */
    static List<Path> llamaGrammars(Path llamaSource) throws IOException {
        Path dir = llamaSource == null ? null : llamaSource.resolve("grammars");
        if (dir == null || !Files.isDirectory(dir)) {
            return List.of();
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.gbnf")) {
            List<Path> out = new java.util.ArrayList<>();
            ds.forEach(out::add);
            out.sort(null);
            return out;
        }
    }

    /** How many inputs the target kept as refused by Java but accepted by llama.cpp. */
    static long refusedAccepted(Path dir) throws IOException {
        Path d = dir.resolve("refused-accepted");
        if (!Files.isDirectory(d)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.count();
        }
    }
}
