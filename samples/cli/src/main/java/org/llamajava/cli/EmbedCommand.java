package org.llamajava.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.llamajava.Model;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.Normalization;
import org.llamajava.Pooling;
import org.llamajava.embed.Similarity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code embed -m MODEL (-p TEXT | -f FILE)}: embeddings as llama.cpp's {@code llama-embedding}
 * prints them, with its flags: the prompt is split at {@code --embd-separator} (a newline by
 * default), {@code --pooling}, {@code --embd-normalize} (default 2, L2) and
 * {@code --embd-output-format} ({@code json}, {@code json+} with the cosine-similarity matrix,
 * {@code array}, {@code raw}; by default a readable listing with the similarity matrix).
 */
@Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Print embeddings as llama-embedding does (one input per line of the prompt).")
final class EmbedCommand extends CliCommand {
    @Mixin
    ModelOption model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the inputs, split at --embd-separator")
    String promptText;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the inputs from a file")
    Path file;

    @Option(names = "--pooling", paramLabel = "none|mean|cls|last|rank", defaultValue = "${env:LLAMA_ARG_POOLING}",
            description = "pooling (default: the model's; env: LLAMA_ARG_POOLING)")
    String pooling;

    @Option(names = "--embd-normalize", paramLabel = "N", defaultValue = "2",
            description = "-1 none, 0 max absolute int16, 1 taxicab, 2 euclidean (default), >2 p-norm")
    int normalize;

    @Option(names = "--embd-output-format", paramLabel = "FORMAT", defaultValue = "",
            description = "json, json+, array or raw (default: a readable listing)")
    String format;

    @Option(names = "--embd-separator", paramLabel = "SEP",
            description = "separates inputs in the prompt (default: a newline)")
    String separator;

    @Option(names = "--no-escape", description = "take the prompt and separator as written, without escapes")
    boolean noEscape;

    @Mixin
    ContextOptions context;

    @Mixin
    GpuOption gpu;

    @Override
    protected int run() {
        if (!model.given()) {
            throw new UsageException("missing -m MODEL");
        }
        String prompt = prompt();
        String sep = separator == null ? "\n" : noEscape ? separator : Escapes.process(separator);
        if (!List.of("", "json", "json+", "array", "raw").contains(format)) {
            throw new UsageException("--embd-output-format must be json, json+, array or raw, not '" + format + "'");
        }
        EmbedderParams.Builder params = EmbedderParams.builder().normalization(new Normalization(normalize))
                .contextSize(context.contextSize(0));
        if (context.threads() != null) {
            params.threads(context.threads());
        }
        if (pooling != null) {
            params.pooling(Pooling.ofFlag(pooling));
        }
        List<String> texts = split(prompt, sep);
        try (Model m = Progress.loadModel(model.path(this), gpu.modelParams(), err);
             Embedder embedder = Embedder.create(m, params.build())) {
            List<float[]> vectors = new ArrayList<>();
            if (embedder.pooling() == Pooling.NONE) {
                for (String t : texts) {
                    vectors.addAll(embedder.embedTokens(t));
                }
            } else {
                vectors.addAll(embedder.embedAll(texts));
            }
            print(out, format, texts, vectors, normalize, embedder.pooling());
        }
        return 0;
    }

    private String prompt() {
        if ((promptText == null) == (file == null)) {
            throw new UsageException("give the input as -p TEXT or -f FILE (one of them)");
        }
        if (file != null) {
            try {
                String s = Files.readString(file, StandardCharsets.UTF_8);
                // llama.cpp's -f drops one trailing newline
                return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        return noEscape ? promptText : Escapes.process(promptText);
    }

    /** Splits as llama-embedding does: every separator splits, so empty lines are inputs too. */
    static List<String> split(String s, String separator) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int end;
        while (!separator.isEmpty() && (end = s.indexOf(separator, start)) >= 0) {
            out.add(s.substring(start, end));
            start = end + separator.length();
        }
        out.add(s.substring(start));
        return out;
    }

    private static String num(float v, int normalize) {
        return String.format(Locale.ROOT, normalize == 0 ? "%.0f" : "%.7f", v);
    }

    private static void print(PrintStream out, String format, List<String> texts, List<float[]> v, int normalize,
            Pooling pooling) {
        StringBuilder sb = new StringBuilder();
        switch (format) {
            case "json", "json+" -> {
                sb.append("{\n  \"object\": \"list\",\n  \"data\": [\n");
                for (int j = 0; j < v.size(); j++) {
                    sb.append("    {\n      \"object\": \"embedding\",\n      \"index\": ").append(j)
                            .append(",\n      \"embedding\": [");
                    appendVector(sb, v.get(j), normalize, ",");
                    sb.append("]\n    }").append(j + 1 < v.size() ? ",\n" : "");
                }
                sb.append("\n  ]");
                if (format.equals("json+") && texts.size() > 1) {
                    sb.append(",\n  \"cosineSimilarity\": [\n");
                    for (int i = 0; i < v.size(); i++) {
                        sb.append("    [");
                        for (int j = 0; j < v.size(); j++) {
                            sb.append(String.format(Locale.ROOT, "%6.2f", Similarity.cosine(v.get(i), v.get(j))))
                                    .append(j + 1 < v.size() ? ", " : "");
                        }
                        sb.append(" ]").append(i + 1 < v.size() ? ",\n" : "");
                    }
                    sb.append("\n  ]");
                }
                sb.append("\n}\n");
            }
            case "array" -> {
                sb.append('[');
                for (int j = 0; j < v.size(); j++) {
                    sb.append('[');
                    appendVector(sb, v.get(j), normalize, ",");
                    sb.append(']').append(j + 1 < v.size() ? "," : "");
                }
                sb.append("]\n");
            }
            case "raw" -> {
                for (float[] e : v) {
                    appendVector(sb, e, normalize, " ");
                    sb.append('\n');
                }
            }
            default -> readable(sb, texts, v, normalize, pooling);
        }
        out.print(sb);
        out.flush();
    }

    private static void appendVector(StringBuilder sb, float[] e, int normalize, String sep) {
        for (int i = 0; i < e.length; i++) {
            sb.append(num(e[i], normalize)).append(i + 1 < e.length ? sep : "");
        }
    }

    /** llama-embedding's listing: each vector (the first 16 values when there are several), then the similarity matrix. */
    private static void readable(StringBuilder sb, List<String> texts, List<float[]> v, int normalize, Pooling pooling) {
        String cell = normalize == 0 ? "%6.0f " : "%9.6f ";
        if (pooling == Pooling.RANK) {
            for (int j = 0; j < v.size(); j++) {
                sb.append(String.format(Locale.ROOT, "rerank score %d: %8.3f%n", j, v.get(j)[0]));
            }
            return;
        }
        for (int j = 0; j < v.size(); j++) {
            float[] e = v.get(j);
            sb.append("embedding ").append(j).append(": ");
            int n = pooling == Pooling.NONE || texts.size() > 1 ? Math.min(16, e.length) : e.length;
            for (int i = 0; i < n; i++) {
                sb.append(String.format(Locale.ROOT, cell, e[i]));
            }
            sb.append('\n');
        }
        if (pooling != Pooling.NONE && texts.size() > 1) {
            sb.append("\ncosine similarity matrix:\n\n");
            for (String t : texts) {
                sb.append(String.format(Locale.ROOT, "%6.6s ", t));
            }
            sb.append('\n');
            for (int i = 0; i < v.size(); i++) {
                for (int j = 0; j < v.size(); j++) {
                    sb.append(String.format(Locale.ROOT, "%6.2f ", Similarity.cosine(v.get(i), v.get(j))));
                }
                sb.append(String.format(Locale.ROOT, "%1.10s", texts.get(i))).append('\n');
            }
        }
    }

}
