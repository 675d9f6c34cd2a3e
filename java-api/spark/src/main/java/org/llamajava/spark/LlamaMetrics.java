package org.llamajava.spark;

import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * What one {@code transform} of a llama-java transformer did, as Spark accumulators (named, so
 * they show in the Spark UI's stage pages): rows, rows failed, tokens in and out, and the time
 * tasks waited on the model. Read them on the driver after an action; a summary line is logged
 * on the driver at the end of each job that used them ({@link #summary()}).
 *
 * <p>As with every Spark accumulator updated in a transformation, a retried or speculative task
 * may count its rows twice.
 */
public final class LlamaMetrics implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final LongAccumulator rows;
    private final LongAccumulator rowsFailed;
    private final LongAccumulator tokensIn;
    private final LongAccumulator tokensOut;
    private final LongAccumulator modelNanos;

    LlamaMetrics(SparkContext sc, String name) {
        this.name = name;
        this.rows = sc.longAccumulator(name + ".rows");
        this.rowsFailed = sc.longAccumulator(name + ".rowsFailed");
        this.tokensIn = sc.longAccumulator(name + ".tokensIn");
        this.tokensOut = sc.longAccumulator(name + ".tokensOut");
        this.modelNanos = sc.longAccumulator(name + ".modelNanos");
    }

    /** The transformer's uid these count for. */
    public String name() {
        return name;
    }

    /** Rows processed (failed ones included). */
    public long rows() {
        return rows.value();
    }

    /** Rows that got an error cell instead of a result. */
    public long rowsFailed() {
        return rowsFailed.value();
    }

    /** Tokens of input: prompts, texts, query and document pairs. */
    public long tokensIn() {
        return tokensIn.value();
    }

    /** Tokens generated (0 for embedding, scoring and counting). */
    public long tokensOut() {
        return tokensOut.value();
    }

    /** Nanoseconds tasks spent waiting on the model (summed over tasks). */
    public long modelNanos() {
        return modelNanos.value();
    }

    /** The accumulators, for code that wants Spark's own objects. */
    public LongAccumulator[] accumulators() {
        return new LongAccumulator[] {rows, rowsFailed, tokensIn, tokensOut, modelNanos};
    }

    /** One line: rows, failures, tokens and model time. */
    public String summary() {
        return String.format(java.util.Locale.ROOT,
                "llama-java %s: %d rows, %d failed, %d tokens in, %d tokens out, %.1f s in the model",
                name, rows(), rowsFailed(), tokensIn(), tokensOut(), modelNanos() / 1e9);
    }

    void time(long nanos) {
        modelNanos.add(nanos);
    }

    void row(boolean failed, long in, long out, long nanos) {
        rows.add(1);
        if (failed) {
            rowsFailed.add(1);
        }
        tokensIn.add(in);
        tokensOut.add(out);
        modelNanos.add(nanos);
    }
}
