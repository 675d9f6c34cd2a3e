package org.llamajava.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.llamajava.grammar.JsonSchema;
import org.llamajava.structured.Structured;

/**
 * Spark SQL types for JSON Schemas, and the values between JSON and Spark rows.
 *
 * <p>The mapping: {@code object} with {@code properties} to a struct (fields in the properties'
 * order, all nullable); {@code object} with only {@code additionalProperties} to
 * {@code map<string, V>}; {@code array} to {@code array<T>} of its {@code items}; {@code string}
 * to string; {@code integer} to bigint; {@code number} to double; {@code boolean} to boolean;
 * a {@code type} list with {@code "null"} to its other type; {@code $ref} into {@code $defs} (or
 * {@code definitions}) to the referenced type. Anything else ({@code enum} or {@code const} of
 * mixed types, {@code anyOf}, {@code oneOf}, a recursive {@code $ref}) becomes a string holding
 * the value's JSON text; an {@code enum} of strings is a string.
 */
public final class SparkSchemas {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SparkSchemas() {}

    /** The Spark type of values of {@code schema}. */
    public static DataType typeOf(JsonSchema schema) {
        JsonNode root = schema.node();
        return typeOf(root, root, new HashSet<>());
    }

    /** The Spark type of a Java record (or other type {@link JsonSchema#of(Class)} maps). */
    public static DataType typeOf(Class<?> type) {
        return typeOf(JsonSchema.of(type));
    }

    private static DataType typeOf(JsonNode n, JsonNode root, Set<String> refs) {
        if (n.has("$ref")) {
            String ref = n.get("$ref").asText();
            if (!refs.add(ref)) {
                return DataTypes.StringType; // recursive: the JSON text
            }
            try {
                return typeOf(resolve(root, ref), root, refs);
            } finally {
                refs.remove(ref);
            }
        }
        JsonNode enumValues = n.has("enum") ? n.get("enum") : n.has("const") ? JSON.createArrayNode().add(n.get("const"))
                : null;
        if (enumValues != null) {
            return DataTypes.StringType;
        }
        String type = typeName(n);
        if (type == null) {
            return DataTypes.StringType;
        }
        switch (type) {
            case "string":
                return DataTypes.StringType;
            case "integer":
                return DataTypes.LongType;
            case "number":
                return DataTypes.DoubleType;
            case "boolean":
                return DataTypes.BooleanType;
            case "array": {
                JsonNode items = n.get("items");
                return DataTypes.createArrayType(items == null || !items.isObject() ? DataTypes.StringType
                        : typeOf(items, root, refs), true);
            }
            case "object": {
                JsonNode props = n.get("properties");
                if (props == null || props.isEmpty()) {
                    JsonNode extra = n.get("additionalProperties");
                    return DataTypes.createMapType(DataTypes.StringType, extra != null && extra.isObject()
                            ? typeOf(extra, root, refs) : DataTypes.StringType, true);
                }
                List<StructField> fields = new ArrayList<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    fields.add(DataTypes.createStructField(e.getKey(), typeOf(e.getValue(), root, refs), true));
                }
                return DataTypes.createStructType(fields);
            }
            default:
                return DataTypes.StringType;
        }
    }

    /** The one non-null type a schema names, or null if it names none or several. */
    private static String typeName(JsonNode n) {
        JsonNode t = n.get("type");
        if (t == null) {
            return n.has("properties") ? "object" : null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        String only = null;
        for (JsonNode x : t) {
            if (!"null".equals(x.asText())) {
                if (only != null) {
                    return null;
                }
                only = x.asText();
            }
        }
        return only;
    }

    private static JsonNode resolve(JsonNode root, String ref) {
        if (!ref.startsWith("#/")) {
            throw new IllegalArgumentException("only local $refs (#/...) are supported; got " + ref);
        }
        JsonNode at = root.at(ref.substring(1));
        if (at.isMissingNode()) {
            throw new IllegalArgumentException("the $ref " + ref + " names nothing in the schema");
        }
        return at;
    }

    /** The Spark value of {@code json} as {@code type} (a Row for a struct, a Scala Seq for an array, a Scala Map for a map, ...). */
    public static Object toSpark(JsonNode json, DataType type) {
        if (json == null || json.isNull() || json.isMissingNode()) {
            return null;
        }
        if (type instanceof StructType st) {
            Object[] v = new Object[st.fields().length];
            for (int i = 0; i < v.length; i++) {
                v[i] = toSpark(json.get(st.fields()[i].name()), st.fields()[i].dataType());
            }
            return RowFactory.create(v);
        }
        if (type instanceof ArrayType at) {
            List<Object> v = new ArrayList<>();
            json.forEach(x -> v.add(toSpark(x, at.elementType())));
            return scala.jdk.javaapi.CollectionConverters.asScala(v).toSeq(); // what Row encoders take
        }
        if (type instanceof MapType mt) {
            Map<String, Object> v = new LinkedHashMap<>();
            json.fields().forEachRemaining(e -> v.put(e.getKey(), toSpark(e.getValue(), mt.valueType())));
            return scala.jdk.javaapi.CollectionConverters.asScala(v);
        }
        if (type == DataTypes.LongType) {
            if (!json.canConvertToLong()) {
                throw new IllegalArgumentException("not a 64-bit integer: " + json);
            }
            return json.asLong();
        }
        if (type == DataTypes.DoubleType) {
            return json.asDouble();
        }
        if (type == DataTypes.BooleanType) {
            return json.asBoolean();
        }
        return json.isTextual() ? json.asText() : json.toString();
    }

    /** A struct row (of a column {@link #typeOf(Class)} made) read back as a value of {@code type}. */
    public static <T> T toRecord(Row row, Class<T> type) {
        return Structured.of(type).parse(row.json());
    }

    /** Parses JSON text. */
    static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
    }
}
