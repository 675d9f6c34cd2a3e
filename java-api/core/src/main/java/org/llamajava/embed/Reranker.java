package org.llamajava.embed;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.Pooling;
import org.llamajava.Vocabulary;

/**
 * Scores documents against a query with a reranking (cross-encoder) model: one relevance score
 * per document, higher is more relevant.
 *
 * <pre>{@code
 * try (Reranker reranker = Reranker.create(model)) {
 *     List<ScoredDocument> best = reranker.topK("what is a llama?", documents, 3);
 * }
 * }</pre>
 *
 * <p>Each pair is formatted as llama.cpp's {@code llama-embedding} formats a rank-pooling input:
 * with the model's own {@code rerank} template ({@code {query}} and {@code {document}} replaced)
 * when its GGUF has one, else the query, the end-of-sequence and separator tokens the tokenizer
 * would add, then the document; tokenized with the model's special tokens. For a BERT
 * cross-encoder that is {@code [CLS] query [SEP] document [SEP]}. Scores are the model's raw
 * classifier output (its first class), as llama-server returns them.
 *
 * <p>Like {@link Embedder}: single-threaded, AutoCloseable, many pairs per native decode.
 */
public final class Reranker implements AutoCloseable {
    private final EmbeddingRunner runner;
    private final String template;

    private Reranker(EmbeddingRunner runner, String template) {
        this.runner = runner;
        this.template = template;
    }

    /** A reranker with {@link EmbedderParams#defaults()}. */
    public static Reranker create(Model model) {
        return create(model, EmbedderParams.defaults());
    }

    /**
     * A reranker over {@code model}, whose GGUF must declare rank pooling (a reranking model),
     * unless {@code params} asks for {@link Pooling#RANK} explicitly.
     *
     * @throws IllegalArgumentException if the model is not a reranking model
     */
    public static Reranker create(Model model, EmbedderParams params) {
        if (model == null || params == null) {
            throw new IllegalArgumentException("model and params are required; e.g. EmbedderParams.defaults()");
        }
        if (params.pooling() != Pooling.RANK) {
            if (params.pooling() != Pooling.MODEL) {
                throw new IllegalArgumentException("a Reranker pools by rank; got pooling " + params.pooling());
            }
            String declared = model.metadata(model.architecture() + ".pooling_type");
            if (declared == null || !declared.strip().equals(Integer.toString(Pooling.RANK.value()))) {
                throw new IllegalArgumentException(model.path().getFileName() + " is not a reranking model (its GGUF"
                        + " declares pooling " + (declared == null ? "none" : declared) + ", not rank); use an Embedder"
                        + " and Similarity for embedding models");
            }
        }
        return new Reranker(new EmbeddingRunner("Reranker", model, params, Pooling.RANK), model.chatTemplate("rerank"));
    }

    /** The text a query and a document are scored as (before tokenization). */
    public String format(String query, String document) {
        if (query == null || document == null) {
            throw new IllegalArgumentException("query and document must not be null");
        }
        if (template != null) {
            return template.replace("{query}", query).replace("{document}", document);
        }
        Vocabulary v = runner.vocab;
        StringBuilder sb = new StringBuilder(query);
        if (v.addsEos() && v.eos() != Vocabulary.NO_TOKEN) {
            sb.append(v.tokenText(v.eos()));
        }
        if (v.addsSep() && v.sep() != Vocabulary.NO_TOKEN) {
            sb.append(v.tokenText(v.sep()));
        }
        return sb.append(document).toString();
    }

    /** One document's score. */
    public float score(String query, String document) {
        return score(query, List.of(document))[0];
    }

    /** Every document's score, in the documents' order. */
    public float[] score(String query, List<String> documents) {
        if (documents == null) {
            throw new IllegalArgumentException("documents is null");
        }
        List<int[]> inputs = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            String d = documents.get(i);
            if (d == null) {
                throw new IllegalArgumentException("document " + i + " is null");
            }
            inputs.add(runner.tokens(format(query, d), i));
        }
        float[] scores = new float[documents.size()];
        runner.run(inputs, (input, token, vector) -> scores[input] = vector.get(0), null);
        return scores;
    }

    /** The {@code k} best documents, most relevant first (ties keep the documents' order). */
    public List<ScoredDocument> topK(String query, List<String> documents, int k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0; got " + k);
        }
        float[] scores = score(query, documents);
        List<ScoredDocument> all = new ArrayList<>(scores.length);
        for (int i = 0; i < scores.length; i++) {
            all.add(new ScoredDocument(i, documents.get(i), scores[i]));
        }
        all.sort(Comparator.comparingDouble(ScoredDocument::score).reversed());
        return List.copyOf(all.subList(0, Math.min(k, all.size())));
    }

    /** Whether {@link #close()} was called (or the model closed). */
    public boolean isClosed() {
        return runner.isClosed();
    }

    /** Frees the reranker's context; idempotent. */
    @Override
    public void close() {
        runner.close();
    }
}
