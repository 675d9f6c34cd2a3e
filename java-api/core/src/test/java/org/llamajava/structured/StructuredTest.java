package org.llamajava.structured;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.LlamaException;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.grammar.JsonSchema;
import org.llamajava.internal.Json;

/**
 * Typed structured output: schemas derived from records, and grammar-constrained generation at
 * temperature 1 over many seeds whose every output validates against its schema (checked by an
 * independent JSON Schema validator) and parses into the record.
 */
class StructuredTest {
    @TempDir
    static Path tmp;

    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.RECORD_COMPONENT, ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER,
            ElementType.TYPE_USE})
    @interface Nullable {}

    enum Color { RED, GREEN, BLUE }

    record Address(String street, int number) {}

    record Person(@JsonPropertyDescription("full name") String name, int age, boolean active, double score,
                  Long id, Color color, List<String> tags, Address address, Optional<String> nickname,
                  @Nullable Integer rank, LocalDate born, List<List<Integer>> grid,
                  @JsonProperty("home_town") String homeTown) {}

    record Node(String label, List<Node> children) {}

    record Times(LocalTime at, OffsetDateTime when, UUID id, char initial, short s) {}

    record Counts(Map<String, Integer> counts) {}

    static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    static List<String> validate(JsonNode schema, String json) {
        Schema s = REGISTRY.getSchema(Json.write(schema), InputFormat.JSON);
        return s.validate(json, InputFormat.JSON).stream().map(Error::toString).toList();
    }

    @Test
    void recordSchemas() {
        JsonNode s = JsonSchema.of(Person.class).node();
        assertEquals("object", s.get("type").asText());
        assertEquals(false, s.get("additionalProperties").asBoolean());
        JsonNode props = s.get("properties");
        assertEquals("full name", props.get("name").get("description").asText());
        assertEquals("integer", props.get("age").get("type").asText());
        assertEquals("boolean", props.get("active").get("type").asText());
        assertEquals("number", props.get("score").get("type").asText());
        assertEquals("[\"RED\",\"GREEN\",\"BLUE\"]", props.get("color").get("enum").toString());
        assertEquals("array", props.get("tags").get("type").asText());
        assertEquals("object", props.get("address").get("type").asText());
        assertEquals("date", props.get("born").get("format").asText());
        assertEquals("null", props.get("rank").get("anyOf").get(1).get("type").asText());
        assertTrue(props.has("home_town"));
        List<String> required = Json.MAPPER.convertValue(s.get("required"), List.class);
        assertTrue(required.contains("name") && required.contains("rank") && !required.contains("nickname"), required.toString());

        JsonNode node = JsonSchema.of(Node.class).node();
        assertTrue(node.has("$defs"), "a recursive record goes into $defs: " + node);
        assertTrue(JsonSchema.of(Node.class).toGbnf().contains("root ::="));
        assertNotNull(JsonSchema.of(Times.class).toGrammar());
        assertEquals("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\",\"minimum\":-2147483648,"
                + "\"maximum\":2147483647}}", JsonSchema.of(Counts.class).node().get("properties").get("counts").toString());

        assertThrows(IllegalArgumentException.class, () -> JsonSchema.of(List.class));
        assertThrows(IllegalArgumentException.class, () -> JsonSchema.of(Thread.class));
    }

    @Test
    void badSchemasAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonSchema.of("{\"type\": "));
        assertTrue(e.getMessage().contains("not valid JSON at line 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JsonSchema.of("[1, 2]"));
        assertTrue(e.getMessage().contains("is an object"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> JsonSchema.of("{\"type\": \"string\", \"pattern\": \"^(a$\"}").toGbnf());
        assertTrue(e.getMessage().startsWith("llama.cpp cannot turn this JSON Schema into a grammar"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JsonSchema.of("{\"type\": \"kaboom\"}").toGbnf());
        assertTrue(e.getMessage().contains("llama.cpp cannot"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> JsonSchema.of("{\"$ref\": \"#/$defs/missing\"}").toGbnf());
        assertTrue(e.getMessage().contains("llama.cpp cannot"), e.getMessage());
        String deep = "{\"type\":\"array\",\"items\":".repeat(200) + "{}" + "}".repeat(200);
        e = assertThrows(IllegalArgumentException.class, () -> JsonSchema.of(deep));
        assertTrue(e.getMessage().contains("at most " + JsonSchema.MAX_DEPTH), e.getMessage());
    }

    /**
     * Bounds strings and arrays, so that random weights finish their JSON within a few hundred
     * tokens; {@code ascii}: strings of ASCII letters, digits and punctuation other than quotes
     * and backslashes (which llama.cpp's pattern grammars would emit unescaped, as JSON does not
     * allow). (llama.cpp's grammar decodes UTF-8
     * leniently: from a byte-fallback vocabulary at temperature 1 it lets through byte sequences
     * that are not valid UTF-8, e.g. encoded surrogates, which then read as several replacement
     * characters. The 32k Llama-2 vocabulary rarely offers them; the written tiny one mostly has
     * bytes.)
     */
    static JsonNode bounded(JsonNode schema, boolean ascii) {
        JsonNode copy = schema.deepCopy();
        bound(copy, ascii);
        return copy;
    }

    private static void bound(JsonNode n, boolean ascii) {
        if (n instanceof ObjectNode o) {
            if ("string".equals(o.path("type").asText()) && !o.has("pattern") && !o.has("enum") && !o.has("format")
                    && !o.has("maxLength")) {
                if (ascii) {
                    o.put("pattern", "^[a-zA-Z0-9 .,;:!?]{0,6}$");
                } else {
                    o.put("maxLength", 6);
                }
            }
            if ("array".equals(o.path("type").asText()) && !o.has("maxItems")) {
                o.put("maxItems", 2);
            }
            if ("object".equals(o.path("type").asText()) && o.has("additionalProperties")
                    && o.get("additionalProperties").isObject()) {
                o.put("maxProperties", 2);
            }
        }
        for (JsonNode c : n) {
            bound(c, ascii);
        }
    }

    /** Generates under the bounded schema of {@code type} for many seeds; every output validates and parses. */
    static <T> Set<String> manySeeds(Model model, Class<T> type, int seeds, boolean ascii) {
        JsonNode schema = JsonSchema.of(type).node();
        JsonNode b = bounded(schema, ascii);
        Structured<T> st = Structured.of(type, JsonSchema.of(b));
        Set<String> distinct = new HashSet<>();
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
             Sequence seq = ctx.newSequence()) {
            for (int seed = 1; seed <= seeds; seed++) {
                StructuredResult<T> r = st.generate(seq, "JSON:", Sampler.builder().temperature(1f).dist(seed),
                        GenerateOptions.maxTokens(600));
                assertEquals(List.of(), validate(b, r.json()), "seed " + seed + ": " + r.json());
                assertEquals(List.of(), validate(schema, r.json()), "seed " + seed + " (unbounded schema): " + r.json());
                assertNotNull(r.value());
                distinct.add(r.json());
            }
        }
        return distinct;
    }

    @Test
    void manySeedsOnTheRealVocabularyAllValidate() {
        try (Model model = Model.load(TestSupport.sharedModel("llama-2-tiny-random.gguf"))) {
            assertTrue(manySeeds(model, Person.class, 10, false).size() > 5);
            manySeeds(model, Node.class, 5, false);
            manySeeds(model, Times.class, 5, false);
        }
    }

    @Test
    void manySeedsOnAWrittenModelAllValidate() {
        Path p = tmp.resolve("structured.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(5).write(p);
        try (Model model = Model.load(p)) {
            assertTrue(manySeeds(model, Person.class, 8, true).size() > 4);
        }
    }

    @Test
    void handWrittenSchemaWithEscapesNumbersEnumsAndBounds() {
        String schema = """
            {"type": "object", "additionalProperties": false,
             "required": ["text", "n", "x", "kind", "rows", "flag"],
             "properties": {
               "text": {"type": "string", "minLength": 2, "maxLength": 8},
               "n": {"type": "integer", "minimum": -50, "maximum": 1000},
               "x": {"type": "number"},
               "kind": {"enum": ["a\\"b", "ü", 3, null]},
               "rows": {"type": "array", "minItems": 1, "maxItems": 3,
                        "items": {"type": "array", "maxItems": 2, "items": {"type": "boolean"}}},
               "flag": {"const": "on"}}}""";
        JsonNode node = JsonSchema.of(schema).node();
        Set<String> texts = new HashSet<>();
        try (Model model = Model.load(TestSupport.sharedModel("llama-2-tiny-random.gguf"));
             Context ctx = model.createContext(ContextParams.builder().contextSize(512).build());
             Sequence seq = ctx.newSequence()) {
            Structured<JsonNode> st = Structured.of(JsonNode.class, JsonSchema.of(schema));
            for (int seed = 1; seed <= 12; seed++) {
                StructuredResult<JsonNode> r = st.generate(seq, "Data:", Sampler.builder().temperature(1f).dist(seed),
                        GenerateOptions.maxTokens(400));
                assertEquals(List.of(), validate(node, r.json()), "seed " + seed + ": " + r.json());
                texts.add(r.value().get("text").asText());
            }
        }
        assertTrue(texts.size() > 6, "strings differ across seeds: " + texts);
        assertTrue(texts.stream().anyMatch(t -> t.chars().anyMatch(ch -> ch > 127 || ch == '"' || ch == '\\')),
                "some string holds an escape or non-ASCII character: " + texts);
    }

    @Test
    void runningOutOfTokensIsAClearError() {
        try (Model model = Model.load(TestSupport.writeTinyModel(tmp));
             Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
             Sequence seq = ctx.newSequence()) {
            LlamaException e = assertThrows(LlamaException.class, () -> Structured.of(Person.class).generate(seq,
                    "JSON:", Sampler.builder().greedy(), GenerateOptions.maxTokens(3)));
            assertTrue(e.getMessage().contains("raise maxTokens"), e.getMessage());
        }
    }
}
