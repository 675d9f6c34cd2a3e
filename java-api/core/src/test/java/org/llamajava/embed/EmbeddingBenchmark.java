package org.llamajava.embed;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.llamajava.Model;

/**
 * Embedding throughput, run by {@code ci/bench-embed.sh} (not a test): one timed pass over a file
 * of sentences after a warm-up, printing {@code RESULT <side> <texts> <tokens> <seconds>}.
 *
 * <ul>
 *   <li>{@code write FILE N}: writes N mixed-length English sentences (seeded), one per line;</li>
 *   <li>{@code java MODEL FILE THREADS}: llama-java's {@link Embedder};</li>
 *   <li>{@code onnx FILE}: LangChain4j's all-MiniLM-L6-v2 on ONNX Runtime (its own threads).</li>
 * </ul>
 */
public final class EmbeddingBenchmark {
    private static final String[] WORDS = ("the a cat dog llama model vector search local private fast "
            + "document question answer retrieval memory context token batch server client java native "
            + "library embedding sentence language small large quick brown fox jumps over lazy river mountain "
            + "city music science history because while although however therefore running walking reading "
            + "writing thinking building testing measuring comparing").split(" ");

    private EmbeddingBenchmark() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "write" -> write(Path.of(args[1]), Integer.parseInt(args[2]));
            case "java" -> java(Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]));
            case "onnx" -> onnx(Path.of(args[1]));
            default -> throw new IllegalArgumentException("usage: write FILE N | java MODEL FILE THREADS | onnx FILE");
        }
    }

    static void write(Path file, int n) throws Exception {
        Random r = new Random(42);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int words = 4 + (int) Math.min(90, Math.abs(r.nextGaussian() * 18));
            StringBuilder s = new StringBuilder();
            for (int w = 0; w < words; w++) {
                String word = WORDS[r.nextInt(WORDS.length)];
                s.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : " " + word);
                if (w > 0 && w % 9 == 0) {
                    s.append(',');
                }
            }
            sb.append(s).append(r.nextInt(4) == 0 ? "?" : ".").append('\n');
        }
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    private static List<String> read(Path file) throws Exception {
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    static void java(Path model, Path file, int threads) throws Exception {
        List<String> texts = read(file);
        try (Model m = Model.load(model);
             Embedder e = Embedder.create(m, EmbedderParams.builder().threads(threads).build())) {
            long warm = System.nanoTime();
            while (System.nanoTime() - warm < 2_000_000_000L) { // JIT warm-up, as the other benchmarks do
                e.embedAll(texts.subList(0, 64));
            }
            long tokens = 0;
            for (String t : texts) {
                tokens += e.tokenize(t).length;
            }
            long t0 = System.nanoTime();
            List<float[]> v = e.embedAll(texts);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "RESULT java %d %d %.6f%n", v.size(), tokens, s);
        }
    }

    static void onnx(Path file) throws Exception {
        List<String> texts = read(file);
        AllMiniLmL6V2EmbeddingModel m = new AllMiniLmL6V2EmbeddingModel();
        List<TextSegment> segments = new ArrayList<>();
        for (String t : texts) {
            segments.add(TextSegment.from(t));
        }
        long warm = System.nanoTime();
        while (System.nanoTime() - warm < 2_000_000_000L) {
            m.embedAll(segments.subList(0, 64));
        }
        long t0 = System.nanoTime();
        int n = m.embedAll(segments).content().size();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "RESULT onnx %d 0 %.6f%n", n, s);
    }
}
