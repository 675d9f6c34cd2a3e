package org.llamajava.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.Reranker;
import org.llamajava.embed.ScoredDocument;

/**
 * {@code rerank -m MODEL --query Q -f DOCS [--top-k N]}: scores each line of DOCS against the
 * query with a reranking model and prints {@code INDEX<TAB>SCORE<TAB>DOCUMENT}, most relevant
 * first (all of them, or the best N).
 */
final class RerankCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(new String[][] {{"-m", "--model"}, {"--query", "-q"}, {"-f", "--file"}, {"--top-k", "--top-n"},
                {"-c", "--ctx-size"}, {"-t", "--threads"}, {"-ngl", "--n-gpu-layers", "--gpu-layers"}});
        Path model = Path.of(args.require("-m", "MODEL"));
        String query = args.require("--query", "QUERY");
        Path docs = Path.of(args.require("-f", "DOCS"));
        List<String> documents;
        try {
            documents = Files.readAllLines(docs, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + docs + ": " + e.getMessage(), e);
        }
        int topK = args.getInt("--top-k", documents.size());
        if (topK < 0) {
            throw new Args.UsageException("--top-k must be >= 0");
        }
        EmbedderParams.Builder params = EmbedderParams.builder().contextSize(args.getInt("-c", 0));
        if (args.get("-t") != null) {
            params.threads(args.getInt("-t", 1));
        }
        ModelParams mp = ModelParams.builder().gpuLayers(args.getInt("-ngl", ModelParams.ALL_LAYERS)).build();
        try (Model m = Model.load(model, mp); Reranker reranker = Reranker.create(m, params.build())) {
            for (ScoredDocument d : reranker.topK(query, documents, topK)) {
                out.printf(Locale.ROOT, "%d\t%.6f\t%s%n", d.index(), d.score(), d.document());
            }
        }
        out.flush();
        return 0;
    }

    @Override
    public String usage() {
        return "-m MODEL --query QUERY -f DOCS [--top-k N] [-c CTX] [-t THREADS]";
    }
}
