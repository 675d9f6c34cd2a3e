package org.llamajava.internal;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

/**
 * Derives JSON Schemas from Java types (records above all), matching how {@link Json#MAPPER}
 * reads them. Used by {@code JsonSchema.of(Class)} and tools derived from records or methods.
 * Internal: not part of the API.
 */
public final class RecordSchemas {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    // java.time values as patterns, which llama.cpp's converter prefers to "format": its date
    // grammar admits days such as 02-30 and its time grammar requires an offset, which Jackson's
    // LocalDate and LocalTime refuse. February stops at 28 (a pattern cannot know leap years).
    static final String DATE = "[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
            + "|02-(0[1-9]|1[0-9]|2[0-8]))";
    static final String TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]";
    static final String OFFSET = "(Z|[+-](0[0-9]|1[0-7]):[0-5][0-9]|[+-]18:00)"; // java.time: at most 18 hours

    private final Map<Class<?>, ObjectNode> defs = new LinkedHashMap<>();
    private final Set<Class<?>> inProgress = new HashSet<>();
    private final Set<Class<?>> recursive = new HashSet<>();

    private RecordSchemas() {}

    /** The schema of a type; recursive records go into {@code $defs}. */
    public static ObjectNode schemaOf(Type type) {
        RecordSchemas r = new RecordSchemas();
        ObjectNode root = r.schema(type, type.getTypeName());
        return r.withDefs(root);
    }

    /**
     * The schema of a method's parameters as one object (a tool's arguments): every parameter
     * required unless {@code Optional} or {@code @Nullable}; parameter names need {@code -parameters}
     * at compile time, or Jackson's {@code @JsonProperty} on each parameter.
     */
    public static ObjectNode schemaOf(Parameter[] params, String where) {
        RecordSchemas r = new RecordSchemas();
        ObjectNode props = F.objectNode();
        ArrayNode required = F.arrayNode();
        for (Parameter p : params) {
            JsonProperty jp = p.getAnnotation(JsonProperty.class);
            String name = jp != null && !jp.value().isEmpty() ? jp.value() : p.getName();
            if (!p.isNamePresent() && (jp == null || jp.value().isEmpty())) {
                throw new IllegalArgumentException(where + ": parameter names are not available; compile with"
                        + " -parameters or name each parameter with @JsonProperty(\"name\")");
            }
            r.property(props, required, name, p.getParameterizedType(), p, where + "." + name);
        }
        return r.withDefs(closedObject(props, required));
    }

    /** An object of exactly these properties. */
    private static ObjectNode closedObject(ObjectNode props, ArrayNode required) {
        ObjectNode o = F.objectNode();
        o.put("type", "object");
        o.set("properties", props);
        if (!required.isEmpty()) {
            o.set("required", required);
        }
        o.put("additionalProperties", false);
        return o;
    }

    private ObjectNode withDefs(ObjectNode root) {
        if (defs.isEmpty()) {
            return root;
        }
        ObjectNode d = F.objectNode();
        defs.forEach((c, s) -> d.set(defName(c), s));
        root.set("$defs", d);
        return root;
    }

    private static String defName(Class<?> c) {
        return c.getName().replace('$', '.');
    }

    private ObjectNode schema(Type type, String where) {
        if (type instanceof Class<?> c) {
            return classSchema(c, where);
        }
        if (type instanceof ParameterizedType p) {
            Class<?> raw = (Class<?>) p.getRawType();
            Type[] args = p.getActualTypeArguments();
            if (Optional.class == raw) {
                return schema(args[0], where);
            }
            if (Collection.class.isAssignableFrom(raw)) {
                return array(schema(args[0], where + "[]"));
            }
            if (Map.class.isAssignableFrom(raw)) {
                if (args[0] != String.class) {
                    throw new IllegalArgumentException(where + ": only maps with String keys have a JSON Schema");
                }
                ObjectNode o = F.objectNode();
                o.put("type", "object");
                o.set("additionalProperties", schema(args[1], where + "{}"));
                return o;
            }
            throw new IllegalArgumentException(where + ": no JSON Schema for " + type.getTypeName());
        }
        if (type instanceof GenericArrayType g) {
            return array(schema(g.getGenericComponentType(), where + "[]"));
        }
        if (type instanceof WildcardType w && w.getUpperBounds().length == 1) {
            return schema(w.getUpperBounds()[0], where);
        }
        throw new IllegalArgumentException(where + ": no JSON Schema for type " + type.getTypeName()
                + " (type variables and wildcards need a concrete type)");
    }

    private static ObjectNode array(ObjectNode items) {
        ObjectNode o = F.objectNode();
        o.put("type", "array");
        o.set("items", items);
        return o;
    }

    private static ObjectNode typed(String t) {
        ObjectNode o = F.objectNode();
        o.put("type", t);
        return o;
    }

    private static ObjectNode format(String f) {
        ObjectNode o = typed("string");
        o.put("format", f);
        return o;
    }

    private static ObjectNode pattern(String regex, String format) {
        ObjectNode o = format == null ? typed("string") : format(format);
        o.put("pattern", regex);
        return o;
    }

    private ObjectNode classSchema(Class<?> c, String where) {
        if (c == String.class || c == CharSequence.class) {
            return typed("string");
        }
        if (c == char.class || c == Character.class) {
            ObjectNode o = typed("string");
            o.put("minLength", 1);
            o.put("maxLength", 1);
            return o;
        }
        if (c == boolean.class || c == Boolean.class) {
            return typed("boolean");
        }
        if (c == int.class || c == Integer.class || c == long.class || c == Long.class || c == short.class
                || c == Short.class || c == byte.class || c == Byte.class || c == BigInteger.class
                || c == OptionalInt.class || c == OptionalLong.class) {
            ObjectNode o = typed("integer");
            if (c == int.class || c == Integer.class || c == OptionalInt.class) {
                o.put("minimum", Integer.MIN_VALUE);
                o.put("maximum", Integer.MAX_VALUE);
            } else if (c == short.class || c == Short.class) {
                o.put("minimum", Short.MIN_VALUE);
                o.put("maximum", Short.MAX_VALUE);
            } else if (c == byte.class || c == Byte.class) {
                o.put("minimum", Byte.MIN_VALUE);
                o.put("maximum", Byte.MAX_VALUE);
            }
            return o;
        }
        if (c == double.class || c == Double.class || c == float.class || c == Float.class || c == BigDecimal.class
                || c == OptionalDouble.class) {
            return typed("number");
        }
        if (c == LocalDate.class) {
            return pattern("^" + DATE + "$", "date");
        }
        if (c == LocalTime.class) {
            return pattern("^" + TIME + "$", null);
        }
        if (c == OffsetDateTime.class || c == Instant.class || c == ZonedDateTime.class) {
            return pattern("^" + DATE + "T" + TIME + OFFSET + "$", "date-time");
        }
        if (c == LocalDateTime.class) {
            return pattern("^" + DATE + "T" + TIME + "$", null);
        }
        if (c == UUID.class) {
            return format("uuid");
        }
        if (c.isEnum()) {
            ArrayNode values = F.arrayNode();
            for (Object e : c.getEnumConstants()) {
                values.add(((Enum<?>) e).name());
            }
            ObjectNode o = typed("string");
            o.set("enum", values);
            return o;
        }
        if (c.isArray()) {
            return array(schema(c.getComponentType(), where + "[]"));
        }
        if (c == Object.class || JsonNode.class.isAssignableFrom(c)) {
            return F.objectNode();
        }
        if (c.isRecord()) {
            return record(c, where);
        }
        if (Collection.class.isAssignableFrom(c) || Map.class.isAssignableFrom(c) || c == Optional.class) {
            throw new IllegalArgumentException(where + ": raw " + c.getSimpleName()
                    + " has no JSON Schema; give its element type (e.g. List<String>)");
        }
        throw new IllegalArgumentException(where + ": no JSON Schema for " + c.getName()
                + "; use records, enums, strings, numbers, booleans, lists, maps and java.time types");
    }

    private ObjectNode record(Class<?> c, String where) {
        if (inProgress.contains(c)) {
            recursive.add(c);
            return ref(c);
        }
        if (defs.containsKey(c)) {
            return ref(c);
        }
        inProgress.add(c);
        ObjectNode props = F.objectNode();
        ArrayNode required = F.arrayNode();
        for (RecordComponent rc : c.getRecordComponents()) {
            String name = propertyName(rc);
            property(props, required, name, rc.getGenericType(), rc, where + "." + name);
        }
        inProgress.remove(c);
        ObjectNode o = closedObject(props, required);
        if (recursive.contains(c)) {
            defs.put(c, o);
            return ref(c);
        }
        return o;
    }

    private static ObjectNode ref(Class<?> c) {
        ObjectNode o = F.objectNode();
        o.put("$ref", "#/$defs/" + defName(c));
        return o;
    }

    private void property(ObjectNode props, ArrayNode required, String name, Type type, AnnotatedElement annotated,
                          String where) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType()
                : type instanceof Class<?> k ? k : Object.class;
        boolean optional = raw == Optional.class || raw == OptionalInt.class || raw == OptionalLong.class
                || raw == OptionalDouble.class;
        ObjectNode s = schema(type, where);
        if (nullable(annotated, type)) {
            ObjectNode any = F.objectNode();
            ArrayNode alts = any.putArray("anyOf");
            alts.add(s);
            alts.add(typed("null"));
            s = any;
        }
        String description = description(annotated);
        if (description != null) {
            s.put("description", description);
        }
        props.set(name, s);
        if (!optional) {
            required.add(name);
        }
    }

    private static boolean nullable(AnnotatedElement e, Type t) {
        for (Annotation a : annotations(e)) {
            if (a.annotationType().getSimpleName().equals("Nullable")) {
                return true;
            }
        }
        if (e instanceof RecordComponent rc) {
            for (Annotation a : rc.getAnnotatedType().getAnnotations()) {
                if (a.annotationType().getSimpleName().equals("Nullable")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The annotations of a record component, its accessor and its field (where Java puts them). */
    private static List<Annotation> annotations(AnnotatedElement e) {
        List<Annotation> all = new ArrayList<>(List.of(e.getAnnotations()));
        if (e instanceof RecordComponent rc) {
            all.addAll(List.of(rc.getAccessor().getAnnotations()));
            try {
                all.addAll(List.of(rc.getDeclaringRecord().getDeclaredField(rc.getName()).getAnnotations()));
            } catch (NoSuchFieldException ignored) {
                // a record always has the field
            }
        }
        return all;
    }

    private static String propertyName(RecordComponent rc) {
        for (Annotation a : annotations(rc)) {
            if (a instanceof JsonProperty jp && !jp.value().isEmpty()) {
                return jp.value();
            }
        }
        return rc.getName();
    }

    private static String description(AnnotatedElement e) {
        for (Annotation a : annotations(e)) {
            if (a instanceof JsonPropertyDescription d) {
                return d.value();
            }
        }
        return null;
    }
}
