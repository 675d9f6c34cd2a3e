package org.llamajava.spark;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.ml.param.FloatParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Vocabulary;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchHandle;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.grammar.Grammar;
import org.llamajava.grammar.JsonSchema;

/**
 * Generates text for a prompt column (string, or binary holding UTF-8), or for a chat-messages
 * column ({@code array<struct<role: string, content: string>>}, rendered with the model's chat
 * template or {@link #chatTemplate()}). With a {@link #jsonSchema()} or a {@link #recordClass()}
 * the output is a struct column whose type {@link SparkSchemas} derives from the JSON Schema, and
 * generation is constrained by the schema's grammar.
 *
 * <p>All tasks of an executor submit into one {@link BatchEngine} over one model: each task keeps
 * up to {@link #slots()} rows in flight, so concurrent tasks are decoded together. Sampling: at
 * temperature 0 (the default) greedy; above it the chain top-k, top-p, min-p, temperature, then a
 * random draw seeded by the row's {@link #seedCol()} value, or else by
 * {@code 31 * seed + prompt.hashCode()} (never by the clock), so a retried task gives the same
 * output. A prompt that does not fit a slot, invalid UTF-8, or JSON that the generation could not
 * complete within {@link #maxTokens()} gives an error cell.
 */
public final class LlamaGenerator extends LlamaTransformer<LlamaGenerator> {
    private static final long serialVersionUID = 1L;

    private final IntParam maxTokens = new IntParam(this, "maxTokens", "most tokens generated per row");
    private final FloatParam temperature = new FloatParam(this, "temperature", "0: greedy; above: sampled");
    private final IntParam topK = new IntParam(this, "topK", "top-k when sampling (<= 0: off)");
    private final FloatParam topP = new FloatParam(this, "topP", "top-p when sampling (1: off)");
    private final FloatParam minP = new FloatParam(this, "minP", "min-p when sampling (0: off)");
    private final IntParam seed = new IntParam(this, "seed", "the seed rows without a seed column value derive theirs"
            + " from, with their prompt");
    private final Param<String> seedCol = new Param<>(this, "seedCol", "an int or bigint column of per-row seeds");
    private final StringArrayParam stop = new StringArrayParam(this, "stop", "strings that end a generation");
    private final Param<String> chatTemplate = new Param<>(this, "chatTemplate", "for a messages column: a built-in"
            + " template's name (e.g. chatml) or a Jinja file's path; unset: the model's own");
    private final Param<String> jsonSchema = new Param<>(this, "jsonSchema", "a JSON Schema the output must meet;"
            + " the output column is then a struct");
    private final Param<String> recordClass = new Param<>(this, "recordClass", "a Java record class whose JSON"
            + " Schema (JsonSchema.of) the output must meet, unless jsonSchema is set too");
    private final IntParam slots = new IntParam(this, "slots", "requests the executor's shared engine decodes at once");
    private final IntParam contextSize = new IntParam(this, "contextSize", "tokens of the shared engine's KV cache,"
            + " split between its slots (each row's prompt and output must fit contextSize / slots)");

    /** A transformer with a random uid. */
    public LlamaGenerator() {
        this(Identifiable.randomUID("llamaGenerator"));
    }

    /** A transformer with the given uid. */
    public LlamaGenerator(String uid) {
        super(uid);
        setDefault(maxTokens, 256);
        setDefault(temperature, 0f);
        setDefault(topK, 40);
        setDefault(topP, 0.95f);
        setDefault(minP, 0.05f);
        setDefault(seed, 42);
        setDefault(stop, new String[0]);
        setDefault(slots, 4);
        setDefault(contextSize, 4096);
        setDefault(outputCol(), "generated");
    }

    /** Most tokens per row (default 256). */
    public IntParam maxTokens() { return maxTokens; }
    /** Temperature (default 0: greedy). */
    public FloatParam temperature() { return temperature; }
    /** Top-k when sampling (default 40). */
    public IntParam topK() { return topK; }
    /** Top-p when sampling (default 0.95). */
    public FloatParam topP() { return topP; }
    /** Min-p when sampling (default 0.05). */
    public FloatParam minP() { return minP; }
    /** Base seed (default 42). */
    public IntParam seed() { return seed; }
    /** Column of per-row seeds (unset: derived). */
    public Param<String> seedCol() { return seedCol; }
    /** Stop strings (default none). */
    public StringArrayParam stop() { return stop; }
    /** Chat template for a messages column (unset: the model's). */
    public Param<String> chatTemplate() { return chatTemplate; }
    /** JSON Schema of the output (unset: text). */
    public Param<String> jsonSchema() { return jsonSchema; }
    /** Record class of the output (unset: text). */
    public Param<String> recordClass() { return recordClass; }
    /** Slots of the shared engine (default 4). */
    public IntParam slots() { return slots; }
    /** KV cache tokens of the shared engine (default 4096). */
    public IntParam contextSize() { return contextSize; }

    /** Sets {@link #maxTokens()}. */
    public LlamaGenerator setMaxTokens(int v) { set(maxTokens, v); return this; }
    /** Sets {@link #temperature()}. */
    public LlamaGenerator setTemperature(float v) { set(temperature, v); return this; }
    /** Sets {@link #topK()}. */
    public LlamaGenerator setTopK(int v) { set(topK, v); return this; }
    /** Sets {@link #topP()}. */
    public LlamaGenerator setTopP(float v) { set(topP, v); return this; }
    /** Sets {@link #minP()}. */
    public LlamaGenerator setMinP(float v) { set(minP, v); return this; }
    /** Sets {@link #seed()}. */
    public LlamaGenerator setSeed(int v) { set(seed, v); return this; }
    /** Sets {@link #seedCol()}. */
    public LlamaGenerator setSeedCol(String v) { set(seedCol, v); return this; }
    /** Sets {@link #stop()}. */
    public LlamaGenerator setStop(String... v) { set(stop, v); return this; }
    /** Sets {@link #chatTemplate()}. */
    public LlamaGenerator setChatTemplate(String v) { set(chatTemplate, v); return this; }
    /** Sets {@link #jsonSchema()}. */
    public LlamaGenerator setJsonSchema(String v) { set(jsonSchema, v); return this; }
    /** Sets {@link #recordClass()} to {@code type}'s name. */
    public LlamaGenerator setRecordClass(Class<?> type) { set(recordClass, type.getName()); return this; }
    /** Sets {@link #slots()}. */
    public LlamaGenerator setSlots(int v) { set(slots, v); return this; }
    /** Sets {@link #contextSize()}. */
    public LlamaGenerator setContextSize(int v) { set(contextSize, v); return this; }

    /** Reads a saved LlamaGenerator (for {@code Pipeline} persistence). */
    public static MLReader<LlamaGenerator> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a saved LlamaGenerator. */
    public static LlamaGenerator load(String path) {
        return read().load(path);
    }

    /** The schema the output must meet, or null for text. */
    JsonSchema schema() {
        String s = orNull(jsonSchema);
        if (s != null && !s.isBlank()) {
            return JsonSchema.of(s);
        }
        String c = orNull(recordClass);
        if (c != null && !c.isBlank()) {
            try {
                return JsonSchema.of(Class.forName(c, true, Thread.currentThread().getContextClassLoader()));
            } catch (ClassNotFoundException e) {
                throw new IllegalArgumentException(uid() + ": record class " + c + " is not on the class path", e);
            }
        }
        return null;
    }

    @Override
    DataType outputType(StructType input) {
        JsonSchema s = schema();
        return s == null ? DataTypes.StringType : SparkSchemas.typeOf(s);
    }

    static boolean isMessages(DataType t) {
        return t instanceof ArrayType a && a.elementType() instanceof StructType st
                && List.of(st.fieldNames()).containsAll(List.of("role", "content"));
    }

    @Override
    void checkInputs(StructType input) {
        String name = checkInput(input, inputCol());
        DataType t = input.apply(name).dataType();
        if (!isMessages(t) && t != DataTypes.StringType && t != DataTypes.BinaryType) {
            throw new IllegalArgumentException(uid() + ": column " + name + " is " + t.simpleString() + "; expected"
                    + " string, binary, or array<struct<role: string, content: string>>");
        }
        if (isDefined(seedCol)) {
            checkInput(input, seedCol, DataTypes.IntegerType, DataTypes.LongType);
        }
    }

    /** Everything a task needs, made on the driver. */
    private record Settings(ModelSpec model, int threadSetting, int slots, int contextSize, int col, boolean messages,
                            int seedCol, int seed, float temperature, int topK, float topP, float minP,
                            int maxTokens, List<String> stop, String chatTemplate, String schema, DataType out)
            implements java.io.Serializable {}

    @Override
    RowJob job(StructType input) {
        String inName = getOrDefault(inputCol());
        JsonSchema schema = schema();
        Settings s = new Settings(modelSpec(false), threadsSetting(), integer(slots), integer(contextSize),
                input.fieldIndex(inName), isMessages(input.apply(inName).dataType()),
                isDefined(seedCol) ? input.fieldIndex(getOrDefault(seedCol)) : -1, integer(seed), real(temperature),
                integer(topK), real(topP), real(minP), integer(maxTokens), List.of(getOrDefault(stop)),
                orNull(chatTemplate), schema == null ? null : schema.json(), outputType(input));
        if (s.slots() < 1 || s.contextSize() < s.slots() || s.maxTokens() < 0) {
            throw new IllegalArgumentException(uid() + ": slots >= 1, contextSize >= slots, maxTokens >= 0 expected");
        }
        return (rows, fail, metrics) -> run(s, rows, fail, metrics);
    }

    private static Iterator<Row> run(Settings s, Iterator<Row> rows, boolean fail, LlamaMetrics metrics) {
        TaskScope scope = new TaskScope(s.model().source(), fail, metrics);
        ExecutorModels.Lease lease = ExecutorModels.acquire(s.model());
        scope.onEnd(lease);
        int threads = threadsFor(s.threadSetting());
        EngineParams ep = EngineParams.builder().slots(s.slots()).contextSize(s.contextSize())
                .batchSize(Math.max(512, s.slots())).threads(threads).maxQueue(4096).build();
        BatchEngine engine = lease.shared.service(ep, model -> BatchEngine.start(model, ep));
        Model model = lease.shared.model();
        Vocabulary vocab = model.vocabulary();
        Grammar grammar = s.schema() == null ? null : JsonSchema.of(s.schema()).toGrammar();
        ChatTemplate[] template = new ChatTemplate[1];
        long[] index = {0};
        return new Pipelined(rows, s.slots(), scope, source -> {
            Row row = source.next();
            long i = index[0]++;
            int[] prompt;
            String text = null;
            BatchHandle handle;
            try {
                if (s.messages()) {
                    if (template[0] == null) {
                        template[0] = ChatTemplate.resolve(model, s.chatTemplate());
                    }
                    text = template[0].render(messages(row, s.col()), true);
                    prompt = ChatTemplate.promptTokens(text, vocab);
                } else {
                    text = Texts.of(row, s.col());
                    prompt = vocab.tokenize(text, true, true);
                }
                Sampler.Builder sampler = sampler(s, row, text);
                if (grammar != null) {
                    sampler = sampler.grammar(grammar);
                }
                handle = engine.submit(new BatchRequest(prompt, sampler,
                        GenerateOptions.builder().maxTokens(s.maxTokens()).stop(s.stop()).build()));
            } catch (RuntimeException e) {
                String error = e.getMessage();
                return () -> List.of(scope.failed(row, i, error));
            }
            scope.onEnd(handle::cancel);
            CompletableFuture<Completion> f = handle.completion();
            int promptLength = prompt.length;
            return () -> {
                Completion c;
                try {
                    c = scope.await(f);
                } catch (RuntimeException e) {
                    return List.of(scope.failed(row, i, "generation failed: " + Outcome.message(e)));
                }
                if (s.schema() == null) {
                    return List.of(scope.ok(row, c.text(), promptLength, c.tokens().length));
                }
                if (c.finishReason() != FinishReason.END_OF_GENERATION) {
                    return List.of(scope.failed(row, i, "the generation ended (" + c.finishReason() + ") before the"
                            + " JSON was complete, after " + c.tokens().length + " tokens: raise maxTokens, or the"
                            + " model cannot meet the schema"));
                }
                try {
                    JsonNode json = SparkSchemas.parse(c.text());
                    return List.of(scope.ok(row, SparkSchemas.toSpark(json, s.out()), promptLength, c.tokens().length));
                } catch (RuntimeException e) {
                    return List.of(scope.failed(row, i, e.getMessage()));
                }
            };
        });
    }

    /** The row's chat messages. */
    private static List<ChatMessage> messages(Row row, int col) {
        if (row.isNullAt(col)) {
            throw new IllegalArgumentException("the messages are null");
        }
        List<Row> list = row.getList(col);
        List<ChatMessage> out = new ArrayList<>(list.size());
        for (Row m : list) {
            String role = m.getAs("role");
            String content = m.getAs("content");
            if (role == null || content == null) {
                throw new IllegalArgumentException("a message has no role or no content");
            }
            out.add(new ChatMessage(role, content));
        }
        return out;
    }

    /** The row's sampler: greedy at temperature 0, else seeded from the seed column or the prompt. */
    static Sampler.Builder sampler(Settings s, Row row, String prompt) {
        if (s.temperature() <= 0) {
            return Sampler.builder().greedy();
        }
        int rowSeed;
        if (s.seedCol() >= 0 && !row.isNullAt(s.seedCol())) {
            rowSeed = ((Number) row.get(s.seedCol())).intValue();
        } else {
            rowSeed = deriveSeed(s.seed(), prompt);
        }
        return Sampler.builder().topK(s.topK()).topP(s.topP()).minP(s.minP()).temperature(s.temperature())
                .dist(rowSeed);
    }

    /** {@code 31 * seed + prompt.hashCode()}, kept off -1 (llama.cpp's "random seed"). */
    static int deriveSeed(int seed, String prompt) {
        int v = 31 * seed + prompt.hashCode();
        return v == Sampler.RANDOM_SEED ? 0 : v;
    }
}
