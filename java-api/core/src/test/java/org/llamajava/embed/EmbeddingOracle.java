package org.llamajava.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.llamajava.TestSupport;

/**
 * llama.cpp's own llama-embedding (built from the same source as llamajava-embedding, its log
 * drained at exit so that the output is complete) run on the same model and inputs.
 */
final class EmbeddingOracle {
    private static final Pattern VECTOR = Pattern.compile("\"embedding\":\\s*\\[([^\\]]*)\\]");

    private EmbeddingOracle() {}

    /**
     * The vectors llama-embedding prints for {@code texts} (one per line of its prompt), with
     * extra flags such as {@code --pooling cls} or {@code --embd-normalize -1}.
     */
    static List<float[]> run(Path model, List<String> texts, String... flags) throws Exception {
        return run(model, texts, log -> { }, flags);
    }

    /** As {@link #run(Path, List, String...)}, handing llama-embedding's log (stderr) to {@code log}. */
    static List<float[]> run(Path model, List<String> texts, java.util.function.Consumer<String> log, String... flags)
            throws Exception {
        for (String t : texts) {
            assertTrue(!t.contains("\n") && !t.contains("\\"), "llama-embedding takes one input per line, unescaped: " + t);
        }
        List<String> args = new ArrayList<>(List.of("-m", model.toString(), "-p", String.join("\n", texts),
                "--embd-output-format", "json", "-t", "2", "-c", "512"));
        args.addAll(List.of(flags));
        TestSupport.Run r = TestSupport.runTool("llamajava-embedding", args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), () -> "llama-embedding failed:\n" + r.stderr());
        log.accept(r.stderr());
        List<float[]> out = new ArrayList<>();
        Matcher m = VECTOR.matcher(r.stdout());
        while (m.find()) {
            String[] parts = m.group(1).split(",");
            float[] v = new float[parts.length];
            for (int i = 0; i < parts.length; i++) {
                String x = parts[i].strip();
                // rank pooling fills only the first n_cls_out values; llama-embedding prints the rest as it finds them
                v[i] = x.endsWith("nan") ? Float.NaN : x.endsWith("inf") ? (x.startsWith("-") ? Float.NEGATIVE_INFINITY
                        : Float.POSITIVE_INFINITY) : Float.parseFloat(x);
            }
            out.add(v);
        }
        assertTrue(r.stdout().strip().endsWith("}"), () -> "incomplete llama-embedding output:\n" + r.stdout());
        return out;
    }

    /** Asserts two lists of vectors agree within {@code tolerance} per component. */
    static void assertVectorsEqual(List<float[]> expected, List<float[]> actual, float tolerance, String what) {
        assertEquals(expected.size(), actual.size(), what + ": number of vectors");
        for (int k = 0; k < expected.size(); k++) {
            float[] e = expected.get(k);
            float[] a = actual.get(k);
            assertEquals(e.length, a.length, what + ": length of vector " + k);
            for (int i = 0; i < e.length; i++) {
                if (Math.abs(e[i] - a[i]) > tolerance) {
                    throw new AssertionError(what + ": vector " + k + " component " + i + ": llama.cpp " + e[i]
                            + ", llama-java " + a[i] + " (tolerance " + tolerance + ")");
                }
            }
        }
    }

    /** The largest difference of any component of two equally long lists of vectors. */
    static float maxDifference(List<float[]> a, List<float[]> b) {
        assertEquals(a.size(), b.size());
        float max = 0;
        for (int k = 0; k < a.size(); k++) {
            for (int i = 0; i < a.get(k).length; i++) {
                max = Math.max(max, Math.abs(a.get(k)[i] - b.get(k)[i]));
            }
        }
        return max;
    }
}
