package org.llamajava.spark;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every llama-java transformer has: the model (where it is, how to load it), the input,
 * output and error columns, {@code failOnError}, and the rows it hands the model at a time.
 *
 * <p>Each row gets its result in the output column, or null there and a message in the error
 * column that names the row (partition:index) and the model; the job goes on, unless
 * {@link #setFailOnError failOnError} is set. The model is loaded once per executor JVM and shared
 * by its tasks ({@link ExecutorModels}). Every transform registers new {@link LlamaMetrics},
 * readable through {@link #metrics()} once an action ran.
 *
 * @param <T> the concrete transformer, for chained setters
 */
public abstract class LlamaTransformer<T extends LlamaTransformer<T>> extends Transformer implements MLWritable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LlamaTransformer.class);

    private final String uid;
    private final Param<String> modelPath;
    private final Param<String> modelSha256;
    private final IntParam gpuLayers;
    private final BooleanParam useMmap;
    private final IntParam threads;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> errorCol;
    private final BooleanParam failOnError;
    private final IntParam batchSize;
    private transient LlamaMetrics metrics;

    /** A transformer with the given uid (Spark ML's persistence makes them so). */
    protected LlamaTransformer(String uid) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath", "the GGUF file: a local path, a Hadoop URI (hdfs://, s3a://,"
                + " http(s)://, ...) or a Hugging Face reference (ORG/REPO[:QUANT], hf:ORG/REPO/FILE.gguf), copied"
                + " once per executor into the local cache, or sparkfiles:NAME for a file given to SparkContext.addFile");
        modelSha256 = new Param<>(this, "modelSha256", "the model file's SHA-256 (hex), checked once per executor;"
                + " empty: not checked");
        gpuLayers = new IntParam(this, "gpuLayers", "layers offloaded to the GPU (-1: all)");
        useMmap = new BooleanParam(this, "useMmap", "map the model file instead of reading it");
        threads = new IntParam(this, "threads", "CPU threads of the shared model (0: the executor's cores)");
        inputCol = new Param<>(this, "inputCol", "the input column");
        outputCol = new Param<>(this, "outputCol", "the output column");
        errorCol = new Param<>(this, "errorCol", "the column for a row's error (null when it succeeded)");
        failOnError = new BooleanParam(this, "failOnError", "fail the task on a bad row instead of writing the"
                + " error column");
        batchSize = new IntParam(this, "batchSize", "rows a task hands the shared model at a time");
        setDefault(modelSha256, "");
        setDefault(gpuLayers, 0);
        setDefault(useMmap, true);
        setDefault(threads, 0);
        setDefault(errorCol, "error");
        setDefault(failOnError, false);
        setDefault(batchSize, 64);
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    @Override
    public String uid() {
        return uid;
    }

    /** The model file: a local path, a Hadoop URI, {@code ORG/REPO[:QUANT]}, or {@code sparkfiles:NAME}. */
    public Param<String> modelPath() { return modelPath; }
    /** The model file's SHA-256, checked once per executor ("" for none). */
    public Param<String> modelSha256() { return modelSha256; }
    /** Layers offloaded to the GPU (default 0; -1: all). */
    public IntParam gpuLayers() { return gpuLayers; }
    /** Whether the model file is mapped (default true). */
    public BooleanParam useMmap() { return useMmap; }
    /** CPU threads (default 0: the executor's cores). */
    public IntParam threads() { return threads; }
    /** The input column. */
    public Param<String> inputCol() { return inputCol; }
    /** The output column. */
    public Param<String> outputCol() { return outputCol; }
    /** The error column (default "error"). */
    public Param<String> errorCol() { return errorCol; }
    /** Whether a bad row fails the task (default false: it gets an error cell). */
    public BooleanParam failOnError() { return failOnError; }
    /** Rows a task hands the model at a time (default 64). */
    public IntParam batchSize() { return batchSize; }

    /** Sets {@link #modelPath()}. */
    public T setModelPath(String v) { set(modelPath, v); return self(); }
    /** Sets {@link #modelSha256()}. */
    public T setModelSha256(String v) { set(modelSha256, v); return self(); }
    /** Sets {@link #gpuLayers()}. */
    public T setGpuLayers(int v) { set(gpuLayers, v); return self(); }
    /** Sets {@link #useMmap()}. */
    public T setUseMmap(boolean v) { set(useMmap, v); return self(); }
    /** Sets {@link #threads()}. */
    public T setThreads(int v) { set(threads, v); return self(); }
    /** Sets {@link #inputCol()}. */
    public T setInputCol(String v) { set(inputCol, v); return self(); }
    /** Sets {@link #outputCol()}. */
    public T setOutputCol(String v) { set(outputCol, v); return self(); }
    /** Sets {@link #errorCol()}. */
    public T setErrorCol(String v) { set(errorCol, v); return self(); }
    /** Sets {@link #failOnError()}. */
    public T setFailOnError(boolean v) { set(failOnError, v); return self(); }
    /** Sets {@link #batchSize()}. */
    public T setBatchSize(int v) { set(batchSize, v); return self(); }

    /** The metrics of the last {@link #transform}, or null before one. */
    public LlamaMetrics metrics() {
        return metrics;
    }

    /** A param's value or default as a String. */
    String str(Param<String> p) {
        return getOrDefault(p);
    }

    int integer(Param<Object> p) {
        return ((Number) getOrDefault(p)).intValue();
    }

    float real(Param<Object> p) {
        return ((Number) getOrDefault(p)).floatValue();
    }

    boolean bool(Param<Object> p) {
        return (Boolean) getOrDefault(p);
    }

    /** A Param's value or default, or null when it has neither. */
    <V> V orNull(Param<V> p) {
        return isDefined(p) ? getOrDefault(p) : null;
    }

    ModelSpec modelSpec(boolean vocabOnly) {
        if (!isDefined(modelPath)) {
            throw new IllegalArgumentException(uid + ": set modelPath (a local path, a Hadoop URI or sparkfiles:NAME)");
        }
        return new ModelSpec(str(modelPath), str(modelSha256), integer(gpuLayers), bool(useMmap), vocabOnly);
    }

    int threadsSetting() {
        return ((Number) getOrDefault(threads)).intValue();
    }

    boolean failOnErrorSetting() {
        return (Boolean) getOrDefault(failOnError);
    }

    int batchSizeSetting() {
        int n = ((Number) getOrDefault(batchSize)).intValue();
        if (n < 1) {
            throw new IllegalArgumentException(uid + ": batchSize must be >= 1; got " + n);
        }
        return n;
    }

    /** The executor's thread count for a setting of 0. */
    static int threadsFor(int setting) {
        return setting > 0 ? setting : Math.min(1024, ExecutorModels.executorCores());
    }

    /** The input column's name, checked to be there with one of {@code types}. */
    String checkInput(StructType schema, Param<String> col, DataType... types) {
        if (!isDefined(col)) {
            throw new IllegalArgumentException(uid + ": set " + col.name());
        }
        String name = getOrDefault(col);
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(uid + ": no column " + name + " in " + schema.simpleString());
        }
        DataType t = schema.apply(name).dataType();
        if (types.length > 0 && !Arrays.asList(types).contains(t)) {
            throw new IllegalArgumentException(uid + ": column " + name + " is " + t.simpleString() + "; expected "
                    + Arrays.stream(types).map(DataType::simpleString).toList());
        }
        return name;
    }

    /** The output column's type (its value is null on a failed row). */
    abstract DataType outputType(StructType input);

    /** Checks the input columns. */
    abstract void checkInputs(StructType input);

    /** The work of one partition, made on the driver (serializable). */
    abstract RowJob job(StructType input);

    @Override
    public StructType transformSchema(StructType schema) {
        checkInputs(schema);
        if (!isDefined(outputCol)) {
            throw new IllegalArgumentException(uid + ": set outputCol");
        }
        String out = getOrDefault(outputCol);
        String err = getOrDefault(errorCol);
        List<String> names = Arrays.asList(schema.fieldNames());
        if (names.contains(out) || names.contains(err) || out.equals(err)) {
            throw new IllegalArgumentException(uid + ": the output column " + out + " and the error column " + err
                    + " must be new and different");
        }
        return schema.add(new StructField(out, outputType(schema), true, org.apache.spark.sql.types.Metadata.empty()))
                .add(new StructField(err, DataTypes.StringType, true, org.apache.spark.sql.types.Metadata.empty()));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType in = dataset.schema();
        StructType out = transformSchema(in);
        var spark = dataset.sparkSession();
        LlamaMetrics m = new LlamaMetrics(spark.sparkContext(), uid);
        this.metrics = m;
        spark.sparkContext().addSparkListener(new SummaryListener(m, spark.sparkContext()));
        RowJob job = job(in);
        boolean fail = failOnErrorSetting();
        JavaRDD<Row> rows = dataset.toDF().javaRDD().mapPartitions(it -> job.run(it, fail, m));
        return spark.createDataFrame(rows, out);
    }

    /**
     * Logs the metrics' summary on the driver at the end of each job that moved them; once nothing
     * holds the metrics (the transformer moved on, the DataFrame is gone) it removes itself.
     */
    private static final class SummaryListener extends SparkListener {
        private final java.lang.ref.WeakReference<LlamaMetrics> metrics;
        private final org.apache.spark.SparkContext sc;
        private long seen;

        SummaryListener(LlamaMetrics metrics, org.apache.spark.SparkContext sc) {
            this.metrics = new java.lang.ref.WeakReference<>(metrics);
            this.sc = sc;
        }

        @Override
        public void onJobEnd(SparkListenerJobEnd jobEnd) {
            LlamaMetrics m = metrics.get();
            if (m == null) {
                sc.removeSparkListener(this);
                return;
            }
            long rows = m.rows();
            if (rows != seen) {
                seen = rows;
                LOG.info(m.summary());
            }
        }
    }

    @Override
    public Transformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this);
    }

    @Override
    public void save(String path) throws IOException {
        write().save(path);
    }

    /**
     * The work of one partition, in order, keeping up to {@code window} units in flight: a unit
     * is one row (generation) or a chunk of rows (embedding, scoring) submitted to the shared model.
     */
    interface RowJob extends java.io.Serializable {
        Iterator<Row> run(Iterator<Row> rows, boolean failOnError, LlamaMetrics metrics);
    }

    /** A submitted piece of a partition: {@link #await} gives its output rows, in order. */
    interface Unit {
        List<Row> await();
    }

    /** Output rows of a partition from units submitted ahead, at most {@code window} at a time. */
    static final class Pipelined implements Iterator<Row> {
        private final Iterator<Row> source;
        private final java.util.function.Function<Iterator<Row>, Unit> submit;
        private final int window;
        private final TaskScope scope;
        private final ArrayDeque<Unit> inFlight = new ArrayDeque<>();
        private final ArrayDeque<Row> ready = new ArrayDeque<>();

        Pipelined(Iterator<Row> source, int window, TaskScope scope,
                  java.util.function.Function<Iterator<Row>, Unit> submit) {
            this.source = source;
            this.submit = submit;
            this.window = window;
            this.scope = scope;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty()) {
                while (inFlight.size() < window && source.hasNext()) {
                    inFlight.add(submit.apply(source));
                }
                if (inFlight.isEmpty()) {
                    scope.end();
                    return false;
                }
                long t0 = System.nanoTime();
                ready.addAll(inFlight.poll().await());
                scope.modelTime(System.nanoTime() - t0);
            }
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }
    }
}
