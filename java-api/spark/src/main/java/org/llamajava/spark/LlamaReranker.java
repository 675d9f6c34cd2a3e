package org.llamajava.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.llamajava.Pooling;
import org.llamajava.Vocabulary;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.Normalization;
import org.llamajava.embed.Reranker;
import org.llamajava.embed.Truncation;

/**
 * Scores (query, document) pairs with a reranking model: a float column, higher is more relevant,
 * the scores of the core {@link Reranker} (the model's raw classifier output). All tasks of an
 * executor feed one Reranker over one model; a pair too long for the context gets an error cell
 * (or, with truncation {@code end}, is cut to fit).
 */
public final class LlamaReranker extends LlamaTransformer<LlamaReranker> {
    private static final long serialVersionUID = 1L;

    private final Param<String> queryCol = new Param<>(this, "queryCol", "the query column (string)");
    private final Param<String> documentCol = new Param<>(this, "documentCol", "the document column (string)");
    private final Param<String> truncation = new Param<>(this, "truncation", "fail or end");
    private final IntParam contextSize = new IntParam(this, "contextSize", "most tokens of one pair (0: the model's)");
    private final IntParam maxSequences = new IntParam(this, "maxSequences", "most pairs in one native batch (1 to"
            + " 256); 1 makes every score independent of the pairs batched with it");

    /** A transformer with a random uid. */
    public LlamaReranker() {
        this(Identifiable.randomUID("llamaReranker"));
    }

    /** A transformer with the given uid. */
    public LlamaReranker(String uid) {
        super(uid);
        setDefault(truncation, "fail");
        setDefault(contextSize, 0);
        setDefault(maxSequences, 256);
        setDefault(outputCol(), "score");
        setDefault(queryCol, "query");
        setDefault(documentCol, "document");
    }

    /** The query column (default "query"). */
    public Param<String> queryCol() { return queryCol; }
    /** The document column (default "document"). */
    public Param<String> documentCol() { return documentCol; }
    /** fail or end (default fail). */
    public Param<String> truncation() { return truncation; }
    /** Most tokens of one pair (default 0: the model's). */
    public IntParam contextSize() { return contextSize; }
    /** Most pairs in one native batch (default 256). */
    public IntParam maxSequences() { return maxSequences; }

    /** Sets {@link #queryCol()}. */
    public LlamaReranker setQueryCol(String v) { set(queryCol, v); return this; }
    /** Sets {@link #documentCol()}. */
    public LlamaReranker setDocumentCol(String v) { set(documentCol, v); return this; }
    /** Sets {@link #truncation()}. */
    public LlamaReranker setTruncation(String v) { set(truncation, v); return this; }
    /** Sets {@link #contextSize()}. */
    public LlamaReranker setContextSize(int v) { set(contextSize, v); return this; }
    /** Sets {@link #maxSequences()}. */
    public LlamaReranker setMaxSequences(int v) { set(maxSequences, v); return this; }

    /** Reads a saved LlamaReranker (for {@code Pipeline} persistence). */
    public static MLReader<LlamaReranker> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a saved LlamaReranker. */
    public static LlamaReranker load(String path) {
        return read().load(path);
    }

    @Override
    DataType outputType(StructType input) {
        return DataTypes.FloatType;
    }

    @Override
    void checkInputs(StructType input) {
        checkInput(input, queryCol, DataTypes.StringType);
        checkInput(input, documentCol, DataTypes.StringType);
    }

    /** A pair to score. */
    record Pair(String query, String document) {}

    @Override
    RowJob job(StructType input) {
        ModelSpec spec = modelSpec(false);
        int q = input.fieldIndex(getOrDefault(queryCol));
        int d = input.fieldIndex(getOrDefault(documentCol));
        int threadSetting = threadsSetting();
        int batch = batchSizeSetting();
        String trunc = getOrDefault(truncation);
        int ctx = integer(contextSize);
        int seqs = integer(maxSequences);
        LlamaEmbedder.params("rank", -1, "", trunc, ctx, seqs, 1); // checks the settings here
        return (rows, fail, metrics) -> {
            TaskScope scope = new TaskScope(spec.source(), fail, metrics);
            ExecutorModels.Lease lease = ExecutorModels.acquire(spec);
            scope.onEnd(lease);
            EmbedderParams p = LlamaEmbedder.params("model", -1, "", trunc, ctx, seqs, threadsFor(threadSetting));
            RowBatcher<Pair, Float> batcher = lease.shared.service("rerank:" + p, model -> {
                Reranker r = Reranker.create(model, p);
                return new RowBatcher<>("llama-java-rerank", pairs -> score(r, model.vocabulary(), pairs), r,
                        LlamaEmbedder.MERGE);
            });
            return new Pipelined(rows, LlamaEmbedder.WINDOW, scope, new ChunkSubmitter<Pair, Float>(batcher, scope,
                    batch, r -> {
                if (r.isNullAt(q) || r.isNullAt(d)) {
                    throw new IllegalArgumentException("the query or the document is null");
                }
                return new Pair(r.getString(q), r.getString(d));
            }, v -> v));
        };
    }

    /** Every pair's score or error: the documents of each query in one call, one by one if that call fails. */
    static List<Outcome<Float>> score(Reranker r, Vocabulary vocab, List<Pair> pairs) {
        Map<String, List<Integer>> byQuery = new LinkedHashMap<>();
        for (int i = 0; i < pairs.size(); i++) {
            byQuery.computeIfAbsent(pairs.get(i).query(), k -> new ArrayList<>()).add(i);
        }
        List<Outcome<Float>> out = new ArrayList<>(java.util.Collections.nCopies(pairs.size(), null));
        for (Map.Entry<String, List<Integer>> e : byQuery.entrySet()) {
            List<String> docs = new ArrayList<>();
            e.getValue().forEach(i -> docs.add(pairs.get(i).document()));
            try {
                float[] s = r.score(e.getKey(), docs);
                for (int k = 0; k < s.length; k++) {
                    out.set(e.getValue().get(k), Outcome.ok(s[k], tokens(r, vocab, e.getKey(), docs.get(k))));
                }
            } catch (IllegalArgumentException x) {
                for (int k = 0; k < docs.size(); k++) {
                    int i = e.getValue().get(k);
                    try {
                        out.set(i, Outcome.ok(r.score(e.getKey(), docs.get(k)), tokens(r, vocab, e.getKey(),
                                docs.get(k))));
                    } catch (IllegalArgumentException y) {
                        out.set(i, Outcome.failed(y.getMessage().replaceFirst("^input 0 ", "the pair ")));
                    }
                }
            }
        }
        return out;
    }

    private static int tokens(Reranker r, Vocabulary vocab, String query, String document) {
        return vocab.tokenize(r.format(query, document), true, true).length;
    }
}
