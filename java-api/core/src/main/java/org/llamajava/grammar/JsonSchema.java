package org.llamajava.grammar;

import static org.llamajava.bindings.global.llama.llamajava_json_schema_to_grammar;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.llamajava.internal.DeepNative;
import org.llamajava.internal.Json;
import org.llamajava.internal.NativeLibrary;
import org.llamajava.internal.NativeStrings;
import org.llamajava.internal.RecordSchemas;

/**
 * A JSON Schema, turned into a {@link Grammar} by llama.cpp's own converter
 * ({@code json_schema_to_grammar}, as llama-server's {@code json_schema} and
 * {@code llama-completion --json-schema} use it), so that its grammars equal llama.cpp's.
 *
 * <pre>{@code
 * JsonSchema s = JsonSchema.of("{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\"}}}");
 * Sampler sampler = Sampler.builder().grammar(s.toGrammar()).temperature(0.7f).dist(1).build(model);
 * }</pre>
 *
 * <p>{@link #of(Class)} derives the schema of a Java type (records, lists, enums, ...); see
 * {@link org.llamajava.structured.Structured} to generate and parse such values in one call.
 */
public final class JsonSchema {
    /** Deepest nesting of arrays and objects in a schema handed to llama.cpp (its converter recurses). */
    public static final int MAX_DEPTH = 128;

    /**
     * Most optional properties (listed in {@code properties}, not in {@code required}) of one
     * object: llama.cpp's converter writes a rule for every suffix of them, so its time grows with
     * their square (256 take about 0.06 s, 2,000 take 9 s, 5,000 take minutes) and its recursion with
     * their number. Required properties cost little and are not counted.
     */
    public static final int MAX_OPTIONAL_PROPERTIES = 256;

    /** Most properties in the whole schema, required or not. */
    public static final int MAX_PROPERTIES = 8192;

    private final JsonNode schema;
    private final String json;

    private JsonSchema(JsonNode schema) {
        if (!schema.isObject() && !schema.isBoolean()) {
            throw new IllegalArgumentException("a JSON Schema is an object (or true/false); got " + schema.getNodeType());
        }
        int depth = Json.depth(schema);
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("the schema nests " + depth + " levels deep; at most " + MAX_DEPTH
                    + " are supported");
        }
        checkProperties(schema);
        this.schema = schema.deepCopy();
        this.json = Json.write(schema);
    }

    /** Refuses objects with more optional properties, or schemas with more properties, than llama.cpp converts quickly. */
    private static void checkProperties(JsonNode schema) {
        int total = 0;
        java.util.ArrayDeque<JsonNode> nodes = new java.util.ArrayDeque<>();
        nodes.push(schema);
        while (!nodes.isEmpty()) {
            JsonNode x = nodes.pop();
            if (!x.isContainerNode()) {
                continue;
            }
            JsonNode properties = x.isObject() ? x.get("properties") : null;
            if (properties != null && properties.isObject()) {
                int n = properties.size();
                total += n;
                java.util.Set<String> required = new java.util.HashSet<>();
                JsonNode r = x.get("required");
                if (r != null && r.isArray()) {
                    r.forEach(e -> required.add(e.asText()));
                }
                int optional = 0;
                for (java.util.Iterator<String> it = properties.fieldNames(); it.hasNext(); ) {
                    if (!required.contains(it.next())) {
                        optional++;
                    }
                }
                if (optional > MAX_OPTIONAL_PROPERTIES) {
                    throw new IllegalArgumentException("an object of the schema has " + optional + " optional properties;"
                            + " at most " + MAX_OPTIONAL_PROPERTIES + " are supported (llama.cpp's grammar for optional"
                            + " properties grows with their square): list more of them in 'required', or split the object");
                }
                if (total > MAX_PROPERTIES) {
                    throw new IllegalArgumentException("the schema has more than " + MAX_PROPERTIES + " properties;"
                            + " at most " + MAX_PROPERTIES + " are supported");
                }
            }
            for (JsonNode c : x) {
                nodes.push(c);
            }
        }
    }

    /**
     * A schema given as JSON text.
     *
     * @throws IllegalArgumentException if the text is not JSON (with line and column)
     */
    public static JsonSchema of(String json) {
        return new JsonSchema(Json.parse(json, "the JSON Schema"));
    }

    /** A schema given as a Jackson tree (copied). */
    public static JsonSchema of(JsonNode schema) {
        if (schema == null) {
            throw new IllegalArgumentException("schema is null");
        }
        return new JsonSchema(schema);
    }

    /** A schema read from a JSON file. */
    public static JsonSchema fromFile(Path file) {
        try {
            return of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such JSON Schema file: " + file.toAbsolutePath(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read JSON Schema file " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The schema of values of a Java type, as Jackson reads and writes them: a record is an
     * object of its components (all required, no others); {@code Optional} components may be
     * left out; a component annotated {@code @Nullable} (any annotation of that name) may be
     * null; {@code List}, {@code Set} and arrays are arrays; enums list their constants; strings,
     * booleans, integers ({@code int}, {@code long}, {@code BigInteger}, ...), numbers;
     * {@code Map<String, V>} is an object of V; {@code UUID} is a string of format {@code uuid};
     * {@code LocalDate}, {@code LocalTime}, {@code LocalDateTime} and
     * {@code OffsetDateTime}/{@code Instant}/{@code ZonedDateTime} are strings with a
     * {@code pattern} of valid ISO values (with {@code format} {@code date} or {@code date-time}
     * where it applies): llama.cpp's own date grammar admits days such as February 30, which
     * Jackson would refuse; records that contain themselves become {@code $defs}. Jackson's {@code @JsonProperty} names and
     * {@code @JsonPropertyDescription} descriptions are honoured.
     *
     * @throws IllegalArgumentException for a type with no JSON Schema (e.g. a raw {@code List})
     */
    public static JsonSchema of(Class<?> type) {
        return new JsonSchema(RecordSchemas.schemaOf(type));
    }

    /** The schema as a Jackson tree (a copy). */
    public JsonNode node() {
        return schema.deepCopy();
    }

    /** The schema as compact JSON text. */
    public String json() {
        return json;
    }

    /**
     * The GBNF grammar llama.cpp makes of this schema ({@code json_schema_to_grammar(schema, true)}).
     *
     * @throws IllegalArgumentException if llama.cpp cannot convert it (an unsupported feature, an
     *     unresolvable {@code $ref}, an unsupported pattern, ...), with llama.cpp's reason
     */
    public String toGbnf() {
        NativeLibrary.init();
        // llama.cpp's converter recurses with the schema: on a deep stack (DeepNative), never on the caller's
        return DeepNative.call(() -> {
            try (BytePointer s = new BytePointer(json, StandardCharsets.UTF_8)) {
                return NativeStrings.shim(error -> llamajava_json_schema_to_grammar(s, error),
                        why -> new IllegalArgumentException("llama.cpp cannot turn this JSON Schema into a grammar: " + why));
            }
        });
    }

    /** {@link #toGbnf()} as a {@link Grammar}. */
    public Grammar toGrammar() {
        return Grammar.gbnf(toGbnf());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonSchema s && s.schema.equals(schema);
    }

    @Override
    public int hashCode() {
        return schema.hashCode();
    }

    @Override
    public String toString() {
        return json;
    }
}
