package org.llamajava.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.LlamaException;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.Vocabulary;
import org.llamajava.grammar.Grammar;
import org.llamajava.grammar.JsonSchema;
import org.llamajava.internal.Json;

/**
 * Typed structured output: generates JSON that fits the schema of a Java type (a record, say)
 * and returns it parsed.
 *
 * <pre>{@code
 * record Person(String name, int age, List<String> hobbies) {}
 *
 * Person p = Structured.generate(sequence, "A person as JSON: ", Person.class,
 *         Sampler.builder().temperature(0.7f).dist(42));
 * }</pre>
 *
 * <p>The schema comes from {@link JsonSchema#of(Class)} (or is given), its grammar from
 * llama.cpp's converter, and Jackson reads the result. Reuse a {@code Structured} for many
 * generations of one type: the schema and grammar are made once.
 *
 * @param <T> the type of the values generated
 */
public final class Structured<T> {
    /** Tokens a generation may take unless the options say otherwise. */
    public static final int DEFAULT_MAX_TOKENS = 1024;

    private final Class<T> type;
    private final JsonSchema schema;
    private final Grammar grammar;

    private Structured(Class<T> type, JsonSchema schema) {
        if (type == null || schema == null) {
            throw new IllegalArgumentException("type and schema are required");
        }
        this.type = type;
        this.schema = schema;
        this.grammar = schema.toGrammar();
    }

    /** Values of this type, under the schema {@link JsonSchema#of(Class)} derives from it. */
    public static <T> Structured<T> of(Class<T> type) {
        return new Structured<>(type, JsonSchema.of(type));
    }

    /** Values of this type, under a schema of yours (which Jackson must be able to read into the type). */
    public static <T> Structured<T> of(Class<T> type, JsonSchema schema) {
        return new Structured<>(type, schema);
    }

    /**
     * Generates one value of {@code type} after {@code prompt} (tokenized with BOS), with the
     * sampler settings given (a grammar is added to a copy of them), in at most
     * {@link #DEFAULT_MAX_TOKENS} tokens.
     */
    public static <T> T generate(Sequence sequence, String prompt, Class<T> type, Sampler.Builder sampling) {
        return of(type).generate(sequence, prompt, sampling, GenerateOptions.maxTokens(DEFAULT_MAX_TOKENS)).value();
    }

    /** The type generated. */
    public Class<T> type() {
        return type;
    }

    /** The schema generation follows. */
    public JsonSchema schema() {
        return schema;
    }

    /** The grammar llama.cpp made of the schema. */
    public Grammar grammar() {
        return grammar;
    }

    /** Like {@link #generate(Sequence, int[], Sampler.Builder, GenerateOptions)}, tokenizing the prompt with BOS. */
    public StructuredResult<T> generate(Sequence sequence, String prompt, Sampler.Builder sampling,
                                        GenerateOptions options) {
        Vocabulary v = sequence.context().model().vocabulary();
        return generate(sequence, v.tokenize(prompt, true, true), sampling, options);
    }

    /**
     * Generates a value after {@code prompt} in {@code sequence}, sampling with a copy of
     * {@code sampling} plus this type's grammar.
     *
     * @throws LlamaException if the generation stopped before the JSON was complete (raise
     *     {@code maxTokens}), or the JSON does not fit the type
     */
    public StructuredResult<T> generate(Sequence sequence, int[] prompt, Sampler.Builder sampling,
                                        GenerateOptions options) {
        if (sampling == null) {
            throw new IllegalArgumentException("sampling is required, e.g. Sampler.builder().greedy()");
        }
        Completion c;
        try (Sampler sampler = sampling.copy().grammar(grammar).build(sequence.context().model())) {
            c = sequence.generate(prompt, sampler, options);
        }
        if (c.finishReason() != FinishReason.END_OF_GENERATION) {
            throw new LlamaException("the generation ended (" + c.finishReason() + ") before the JSON was complete, after "
                    + c.tokens().length + " tokens" + (c.finishReason() == FinishReason.MAX_TOKENS
                    ? ": raise maxTokens" : "") + "; text so far: " + abbreviate(c.text()));
        }
        return new StructuredResult<>(parse(c.text()), c.text(), c);
    }

    /**
     * Reads a value of this type from JSON text.
     *
     * @throws LlamaException if the text does not fit the type
     */
    public T parse(String json) {
        try {
            return Json.MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new LlamaException("the JSON does not fit " + type.getSimpleName() + ": " + e.getOriginalMessage()
                    + "; JSON: " + abbreviate(json), e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public String toString() {
        return "Structured[" + type.getName() + "]";
    }
}
