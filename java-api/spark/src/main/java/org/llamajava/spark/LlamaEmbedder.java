package org.llamajava.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
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
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.Normalization;
import org.llamajava.embed.Truncation;

/**
 * Embeds a text column (string, or binary holding UTF-8) into an {@code array<float>} column or an
 * ML {@code Vector} column, with the pooling, normalization, prefix and truncation of
 * {@link EmbedderParams}. The vectors are those of the core {@link Embedder}: all tasks of an
 * executor feed one Embedder over one model, which packs their rows into shared native batches.
 *
 * <pre>{@code
 * Dataset<Row> vectors = new LlamaEmbedder()
 *         .setModelPath("hdfs:///models/all-MiniLM-L6-v2-f16.gguf")
 *         .setInputCol("text").setOutputCol("embedding")
 *         .transform(spark.read().parquet("docs.parquet"));
 * }</pre>
 */
public final class LlamaEmbedder extends LlamaTransformer<LlamaEmbedder> {
    private static final long serialVersionUID = 1L;
    /**
     * Chunks a task keeps queued in the shared batcher, and most rows the batcher merges into one
     * call: fewer than are queued, so the next call's rows are already waiting while one runs.
     */
    static final int WINDOW = 4;
    static final int MERGE = 128;

    private final Param<String> pooling = new Param<>(this, "pooling",
            "model (as the GGUF says), mean, cls, last or rank");
    private final IntParam normalization = new IntParam(this, "normalization",
            "llama.cpp's embd_normalize: -1 none, 0 max-abs int16, 1 taxicab, 2 L2 (default), >2 p-norm");
    private final Param<String> prefix = new Param<>(this, "prefix", "text put before every input, e.g. 'query: '");
    private final Param<String> truncation = new Param<>(this, "truncation",
            "fail (an error cell for a text longer than the context) or end (keep its first tokens)");
    private final IntParam contextSize = new IntParam(this, "contextSize",
            "most tokens of one input (0: the model's training length)");
    private final IntParam maxSequences = new IntParam(this, "maxSequences",
            "most inputs in one native batch (1 to 256); 1 makes every vector independent of the rows batched with it");
    private final Param<String> outputFormat = new Param<>(this, "outputFormat", "array (array<float>) or vector"
            + " (an ML Vector, of doubles)");

    /** A transformer with a random uid. */
    public LlamaEmbedder() {
        this(Identifiable.randomUID("llamaEmbedder"));
    }

    /** A transformer with the given uid. */
    public LlamaEmbedder(String uid) {
        super(uid);
        setDefault(pooling, "model");
        setDefault(normalization, 2);
        setDefault(prefix, "");
        setDefault(truncation, "fail");
        setDefault(contextSize, 0);
        setDefault(outputFormat, "array");
        setDefault(maxSequences, 256);
        setDefault(outputCol(), "embedding");
    }

    /** Pooling: model, mean, cls, last or rank (default model). */
    public Param<String> pooling() { return pooling; }
    /** llama.cpp's embd_normalize number (default 2, L2). */
    public IntParam normalization() { return normalization; }
    /** Text put before every input (default ""). */
    public Param<String> prefix() { return prefix; }
    /** fail or end (default fail). */
    public Param<String> truncation() { return truncation; }
    /** Most tokens of one input (default 0: the model's). */
    public IntParam contextSize() { return contextSize; }
    /** Most inputs in one native batch (default 256). */
    public IntParam maxSequences() { return maxSequences; }
    /** array or vector (default array). */
    public Param<String> outputFormat() { return outputFormat; }

    /** Sets {@link #pooling()}. */
    public LlamaEmbedder setPooling(String v) { set(pooling, v); return this; }
    /** Sets {@link #normalization()}. */
    public LlamaEmbedder setNormalization(int v) { set(normalization, v); return this; }
    /** Sets {@link #prefix()}. */
    public LlamaEmbedder setPrefix(String v) { set(prefix, v); return this; }
    /** Sets {@link #truncation()}. */
    public LlamaEmbedder setTruncation(String v) { set(truncation, v); return this; }
    /** Sets {@link #contextSize()}. */
    public LlamaEmbedder setContextSize(int v) { set(contextSize, v); return this; }
    /** Sets {@link #maxSequences()}. */
    public LlamaEmbedder setMaxSequences(int v) { set(maxSequences, v); return this; }
    /** Sets {@link #outputFormat()}. */
    public LlamaEmbedder setOutputFormat(String v) { set(outputFormat, v); return this; }

    /** Reads a saved LlamaEmbedder (for {@code Pipeline} persistence). */
    public static MLReader<LlamaEmbedder> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a saved LlamaEmbedder. */
    public static LlamaEmbedder load(String path) {
        return read().load(path);
    }

    private boolean vectors() {
        String f = getOrDefault(outputFormat);
        if (!f.equals("array") && !f.equals("vector")) {
            throw new IllegalArgumentException(uid() + ": outputFormat is array or vector; got " + f);
        }
        return f.equals("vector");
    }

    /** The Embedder parameters these settings give, with {@code threads} threads. */
    EmbedderParams embedderParams(int threads) {
        return params(getOrDefault(pooling), integer(normalization), getOrDefault(prefix), getOrDefault(truncation),
                integer(contextSize), integer(maxSequences), threads);
    }

    static EmbedderParams params(String pooling, int normalization, String prefix, String truncation,
                                 int contextSize, int maxSequences, int threads) {
        String p = pooling.toUpperCase(java.util.Locale.ROOT);
        Pooling pool = Arrays.stream(Pooling.values()).filter(x -> x.name().equals(p)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("pooling is model, mean, cls, last or rank; got " + pooling));
        if (pool == Pooling.NONE) {
            throw new IllegalArgumentException("pooling none gives a vector per token, not one per row");
        }
        Truncation t = switch (truncation.toLowerCase(java.util.Locale.ROOT)) {
            case "fail" -> Truncation.FAIL;
            case "end" -> Truncation.END;
            default -> throw new IllegalArgumentException("truncation is fail or end; got " + truncation);
        };
        return EmbedderParams.builder().pooling(pool).normalization(new Normalization(normalization))
                .prefix(prefix).truncation(t).contextSize(contextSize).maxSequences(maxSequences).threads(threads).build();
    }

    @Override
    DataType outputType(StructType input) {
        return vectors() ? SQLDataTypes.VectorType() : DataTypes.createArrayType(DataTypes.FloatType, false);
    }

    @Override
    void checkInputs(StructType input) {
        checkInput(input, inputCol(), Texts.TYPES);
        embedderParams(1); // fails early on a bad setting
    }

    @Override
    RowJob job(StructType input) {
        ModelSpec spec = modelSpec(false);
        int col = input.fieldIndex(getOrDefault(inputCol()));
        int threadSetting = threadsSetting();
        int batch = batchSizeSetting();
        boolean vectors = vectors();
        embedderParams(1); // checked here, made on the executor
        String pool = getOrDefault(pooling);
        int norm = integer(normalization);
        String pre = getOrDefault(prefix);
        String trunc = getOrDefault(truncation);
        int ctx = integer(contextSize);
        int seqs = integer(maxSequences);
        return (rows, fail, metrics) -> {
            TaskScope scope = new TaskScope(spec.source(), fail, metrics);
            ExecutorModels.Lease lease = ExecutorModels.acquire(spec);
            scope.onEnd(lease);
            EmbedderParams p = params(pool, norm, pre, trunc, ctx, seqs, threadsFor(threadSetting));
            RowBatcher<String, float[]> batcher = lease.shared.service(p, model -> {
                Embedder e = Embedder.create(model, p);
                return new RowBatcher<>("llama-java-embed", texts -> embed(e, texts), e, MERGE);
            });
            return new Pipelined(rows, WINDOW, scope, new ChunkSubmitter<String, float[]>(batcher, scope, batch,
                    r -> Texts.of(r, col), vectors ? v -> Vectors.dense(toDoubles(v)) : v -> v));
        };
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** Every text's vector or error; the valid ones in one embedAll (batching does not change vectors). */
    static List<Outcome<float[]>> embed(Embedder e, List<String> texts) {
        List<Outcome<float[]>> out = new ArrayList<>(texts.size());
        List<String> valid = new ArrayList<>();
        int[] tokens = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            try {
                tokens[i] = e.tokenize(texts.get(i)).length;
                valid.add(texts.get(i));
            } catch (IllegalArgumentException x) {
                tokens[i] = -1;
                out.add(Outcome.failed(x.getMessage().replaceFirst("^input 0 ", "the text ")));
                continue;
            }
            out.add(null);
        }
        List<float[]> vectors = e.embedAll(valid);
        Iterator<float[]> it = vectors.iterator();
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i) == null) {
                out.set(i, Outcome.ok(it.next(), tokens[i]));
            }
        }
        return out;
    }
}
