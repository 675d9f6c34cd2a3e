package org.llamajava.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.llamajava.Model;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.Reranker;
import org.llamajava.embed.ScoredDocument;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rerank -m MODEL --query Q -f DOCS [--top-k N]}: scores each line of DOCS against the
 * query with a reranking model and prints {@code INDEX<TAB>SCORE<TAB>DOCUMENT}, most relevant
 * first (all of them, or the best N).
 */
@Command(name = "rerank", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Score each line of DOCS against a query; prints INDEX<TAB>SCORE<TAB>DOCUMENT, most relevant first.")
final class RerankCommand extends CliCommand {
    @Mixin
    ModelOption model;

    @Option(names = {"-q", "--query"}, paramLabel = "QUERY", description = "the query")
    String query;

    @Option(names = {"-f", "--file"}, paramLabel = "DOCS", description = "the documents, one per line")
    Path docs;

    @Option(names = {"--top-k", "--top-n"}, paramLabel = "N", description = "print only the best N (default: all)")
    Integer topK;

    @Mixin
    ContextOptions context;

    @Mixin
    GpuOption gpu;

    @Override
    protected int run() {
        if (!model.given()) {
            throw new UsageException("missing -m MODEL");
        }
        if (query == null) {
            throw new UsageException("missing --query QUERY");
        }
        if (docs == null) {
            throw new UsageException("missing -f DOCS");
        }
        if (topK != null && topK < 0) {
            throw new UsageException("--top-k must be >= 0");
        }
        List<String> documents;
        try {
            documents = Files.readAllLines(docs, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + docs + ": " + e.getMessage(), e);
        }
        EmbedderParams.Builder params = EmbedderParams.builder().contextSize(context.contextSize(0));
        if (context.threads() != null) {
            params.threads(context.threads());
        }
        try (Model m = Progress.loadModel(model.path(this), gpu.modelParams(), err);
             Reranker reranker = Reranker.create(m, params.build())) {
            for (ScoredDocument d : reranker.topK(query, documents, topK == null ? documents.size() : topK)) {
                out.printf(Locale.ROOT, "%d\t%.6f\t%s%n", d.index(), d.score(), d.document());
            }
        }
        out.flush();
        return 0;
    }
}
