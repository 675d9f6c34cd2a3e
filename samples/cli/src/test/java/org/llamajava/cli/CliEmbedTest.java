package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.embed.RerankModels;

/**
 * {@code llama-java embed} prints what llama.cpp's llama-embedding prints for the same flags (the
 * same layout, numbers within 1e-6), and {@code rerank} ranks documents as the Reranker scores them.
 */
class CliEmbedTest {
    @TempDir
    Path tmp;

    private static final Pattern NUMBER = Pattern.compile("-?\\d+\\.\\d+|-?\\d+");
    static final String PROMPT = "Hello world\nThe quick brown fox jumps over the lazy dog.\nCafé, naïve, 42.50";

    /** The text with every number replaced by '#', and the numbers. */
    private static String skeleton(String s, List<Double> numbers) {
        Matcher m = NUMBER.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            numbers.add(Double.parseDouble(m.group()));
            m.appendReplacement(sb, "#");
        }
        m.appendTail(sb);
        return sb.toString().strip();
    }

    @ParameterizedTest
    @CsvSource({"json,2,mean", "json+,2,mean", "array,2,cls", "raw,-1,mean", "array,0,mean", "json,2,none"})
    void printsWhatLlamaEmbeddingPrints(String format, int normalize, String pooling) throws Exception {
        Path model = CliTestSupport.model("all-MiniLM-L6-v2-f16.gguf");
        CliTestSupport.Result ours = CliTestSupport.runCli(tmp, "embed", "-m", model.toString(), "-p", PROMPT,
                "--embd-output-format", format, "--embd-normalize", Integer.toString(normalize), "--pooling", pooling,
                "-t", "2", "-c", "512");
        assertEquals(0, ours.exitCode(), ours::describe);
        CliTestSupport.Result theirs = CliTestSupport.runTool("llamajava-embedding", tmp, "-m", model.toString(), "-p",
                PROMPT, "--embd-output-format", format, "--embd-normalize", Integer.toString(normalize), "--pooling",
                pooling, "-t", "2", "-c", "512");
        assertEquals(0, theirs.exitCode(), theirs::describe);
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        assertEquals(skeleton(theirs.stdout(), b), skeleton(ours.stdout(), a), "the same layout");
        assertEquals(b.size(), a.size());
        double tolerance = normalize == 0 ? 1.0 : format.equals("json+") ? 0.01 : 1e-6;
        for (int i = 0; i < a.size(); i++) {
            assertEquals(b.get(i), a.get(i), tolerance, "number " + i);
        }
    }

    @Test
    void readsAFileAndRanksDocuments() throws Exception {
        Path model = CliTestSupport.model("all-MiniLM-L6-v2-f16.gguf");
        Path file = Files.writeString(tmp.resolve("in.txt"), PROMPT + "\n", StandardCharsets.UTF_8);
        CliTestSupport.Result fromFile = CliTestSupport.runCli(tmp, "embed", "-m", model.toString(), "-f",
                file.toString(), "--embd-output-format", "array");
        CliTestSupport.Result fromPrompt = CliTestSupport.runCli(tmp, "embed", "-m", model.toString(), "-p", PROMPT,
                "--embd-output-format", "array");
        assertEquals(0, fromFile.exitCode(), fromFile::describe);
        assertEquals(fromPrompt.stdout(), fromFile.stdout(), "-f FILE is the prompt, less its last newline");

        Path ranker = RerankModels.write(model, tmp.resolve("rank.gguf"), 5, null);
        Path docs = Files.writeString(tmp.resolve("docs.txt"),
                "Llamas eat grass.\nStocks fell.\nA llama grazes on hay.\n", StandardCharsets.UTF_8);
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "rerank", "-m", ranker.toString(), "--query",
                "what do llamas eat?", "-f", docs.toString(), "--top-k", "2");
        assertEquals(0, r.exitCode(), r::describe);
        List<String> lines = r.stdout().lines().toList();
        assertEquals(2, lines.size(), r::describe);
        double first = Double.parseDouble(lines.get(0).split("\t")[1]);
        double second = Double.parseDouble(lines.get(1).split("\t")[1]);
        assertTrue(first >= second, "most relevant first: " + lines);
        for (String line : lines) {
            String[] f = line.split("\t");
            assertEquals(List.of("Llamas eat grass.", "Stocks fell.", "A llama grazes on hay.")
                    .get(Integer.parseInt(f[0])), f[2], "index and document agree");
        }

        CliTestSupport.Result notRank = CliTestSupport.runCli(tmp, "rerank", "-m", model.toString(), "--query", "q",
                "-f", docs.toString());
        assertEquals(1, notRank.exitCode(), notRank::describe);
        assertTrue(notRank.stderr().contains("not a reranking model"), notRank::describe);
        CliTestSupport.Result bad = CliTestSupport.runCli(tmp, "embed", "-m", model.toString(), "-p", "x",
                "--embd-output-format", "yaml");
        assertEquals(2, bad.exitCode(), bad::describe);
    }

    /** The retrieval sample of docs/guide.md runs as written and finds the document that answers. */
    @Test
    void theSemanticSearchSampleFindsTheAnswer() {
        Path model = CliTestSupport.model("all-MiniLM-L6-v2-f16.gguf");
        CliTestSupport.Result r = CliTestSupport.run(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", CliTestSupport.cliJar().toAbsolutePath().toString(),
                "org.llamajava.samples.SemanticSearch", model.toString(), "Which animal carries loads in the Andes?"),
                java.util.Map.of(), tmp, CliTestSupport.TIMEOUT);
        assertEquals(0, r.exitCode(), r::describe);
        List<String> lines = r.stdout().lines().toList();
        assertEquals(3, lines.size(), r::describe);
        assertTrue(lines.get(0).contains("Llamas are domesticated"), r::describe);
    }
}
