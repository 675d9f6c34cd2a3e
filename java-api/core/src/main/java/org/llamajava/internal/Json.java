package org.llamajava.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The one Jackson {@link ObjectMapper} of llama-java (records, {@code Optional}, {@code java.time}),
 * and JSON helpers shared by the grammar and chat packages. Internal: not part of the API.
 */
public final class Json {
    private Json() {}

    /** Thread-safe once configured, as Jackson's mappers are. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .build();

    /** Parses JSON text, or throws {@link IllegalArgumentException} saying where it is malformed. */
    public static JsonNode parse(String text, String what) {
        if (text == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        try {
            JsonNode n = MAPPER.readTree(text);
            if (n == null || n.isMissingNode()) {
                throw new IllegalArgumentException(what + " is empty: expecting JSON");
            }
            return n;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw new IllegalArgumentException(what + " is not valid JSON" + where + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Compact JSON text of a tree. */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The deepest nesting of arrays and objects in a tree (a scalar is 0). */
    public static int depth(JsonNode n) {
        int max = 0;
        java.util.ArrayDeque<JsonNode> nodes = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<Integer> depths = new java.util.ArrayDeque<>();
        nodes.push(n);
        depths.push(0);
        while (!nodes.isEmpty()) {
            JsonNode x = nodes.pop();
            int d = depths.pop();
            if (x.isContainerNode()) {
                d++;
                max = Math.max(max, d);
                for (JsonNode c : x) {
                    nodes.push(c);
                    depths.push(d);
                }
            }
        }
        return max;
    }
}
