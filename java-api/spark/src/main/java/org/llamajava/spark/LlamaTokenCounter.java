package org.llamajava.spark;

import java.util.Iterator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.llamajava.Vocabulary;

/**
 * Counts the tokens of a text column (string, or binary holding UTF-8) with a model's tokenizer,
 * to size jobs: an int column. Only the vocabulary is loaded (once per executor), and tasks
 * tokenize in parallel (the vocabulary is thread-safe).
 */
public final class LlamaTokenCounter extends LlamaTransformer<LlamaTokenCounter> {
    private static final long serialVersionUID = 1L;

    private final BooleanParam addSpecial = new BooleanParam(this, "addSpecial",
            "count the BOS/EOS tokens the model adds (as a prompt is tokenized)");
    private final BooleanParam parseSpecial = new BooleanParam(this, "parseSpecial",
            "read special-token text (e.g. <|im_start|>) as one token");

    /** A transformer with a random uid. */
    public LlamaTokenCounter() {
        this(Identifiable.randomUID("llamaTokenCounter"));
    }

    /** A transformer with the given uid. */
    public LlamaTokenCounter(String uid) {
        super(uid);
        setDefault(addSpecial, true);
        setDefault(parseSpecial, true);
        setDefault(outputCol(), "tokens");
    }

    /** Whether the model's added tokens count (default true). */
    public BooleanParam addSpecial() { return addSpecial; }
    /** Whether special-token text is one token (default true). */
    public BooleanParam parseSpecial() { return parseSpecial; }

    /** Sets {@link #addSpecial()}. */
    public LlamaTokenCounter setAddSpecial(boolean v) { set(addSpecial, v); return this; }
    /** Sets {@link #parseSpecial()}. */
    public LlamaTokenCounter setParseSpecial(boolean v) { set(parseSpecial, v); return this; }

    /** Reads a saved LlamaTokenCounter (for {@code Pipeline} persistence). */
    public static MLReader<LlamaTokenCounter> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a saved LlamaTokenCounter. */
    public static LlamaTokenCounter load(String path) {
        return read().load(path);
    }

    @Override
    DataType outputType(StructType input) {
        return DataTypes.IntegerType;
    }

    @Override
    void checkInputs(StructType input) {
        checkInput(input, inputCol(), Texts.TYPES);
    }

    @Override
    RowJob job(StructType input) {
        ModelSpec spec = modelSpec(true);
        int col = input.fieldIndex(getOrDefault(inputCol()));
        boolean add = bool(addSpecial);
        boolean parse = bool(parseSpecial);
        return (rows, fail, metrics) -> {
            TaskScope scope = new TaskScope(spec.source(), fail, metrics);
            ExecutorModels.Lease lease = ExecutorModels.acquire(spec);
            scope.onEnd(lease);
            Vocabulary vocab = lease.shared.model().vocabulary();
            return new Iterator<Row>() {
                long index;

                @Override
                public boolean hasNext() {
                    if (rows.hasNext()) {
                        return true;
                    }
                    scope.end();
                    return false;
                }

                @Override
                public Row next() {
                    Row r = rows.next();
                    long i = index++;
                    try {
                        int n = vocab.tokenize(Texts.of(r, col), add, parse).length;
                        return scope.ok(r, n, n, 0);
                    } catch (IllegalArgumentException e) {
                        return scope.failed(r, i, e.getMessage());
                    }
                }
            };
        };
    }
}
