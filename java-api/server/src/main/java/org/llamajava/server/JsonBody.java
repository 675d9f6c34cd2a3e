package org.llamajava.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's JSON object, read within the body limit, with typed getters that answer 400 naming
 * the field when its type or range is wrong. JSON {@code null} counts as absent; unknown fields
 * are ignored, as OpenAI clients send many.
 */
final class JsonBody {
    final ObjectNode node;

    JsonBody(ObjectNode node) {
        this.node = node;
    }

    /** Most bytes of an oversized body read and dropped before answering 413 (larger ones: the connection closes). */
    static final long DRAIN_BYTES = 8L << 20;

    /**
     * Reads the body: 413 past {@code limit} bytes, 400 if not a JSON object. An oversized body
     * (up to {@link #DRAIN_BYTES}) is read to its end and dropped first, so that the client,
     * still sending it, gets the 413 rather than a reset connection.
     */
    static JsonBody read(Context ctx, ObjectMapper mapper, long limit) {
        JsonNode n = readAny(ctx, mapper, limit);
        if (!(n instanceof ObjectNode o)) {
            throw ApiException.invalid("the body must be a JSON object, not " + kind(n));
        }
        return new JsonBody(o);
    }

    /** Reads the body as any JSON value: 413 past {@code limit} bytes, 400 if not JSON; see {@link #read}. */
    static JsonNode readAny(Context ctx, ObjectMapper mapper, long limit) {
        long declared = ctx.req().getContentLengthLong();
        byte[] bytes;
        // a body that stalls holds a worker thread: it gets BODY_TIMEOUT_MS without a byte, not the connection's idle timeout
        org.eclipse.jetty.io.EndPoint endPoint = endPoint(ctx);
        long idle = endPoint == null ? 0 : endPoint.getIdleTimeout();
        if (endPoint != null) {
            endPoint.setIdleTimeout(Math.min(idle <= 0 ? Long.MAX_VALUE : idle, BODY_TIMEOUT_MS));
        }
        try (InputStream in = ctx.req().getInputStream()) {
            if (declared > limit) {
                drain(in);
                throw ApiException.tooLarge(limit);
            }
            bytes = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
            if (bytes.length > limit) {
                drain(in);
                throw ApiException.tooLarge(limit);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the request body: " + e.getMessage(), e);
        } finally {
            if (endPoint != null) {
                endPoint.setIdleTimeout(idle);
            }
        }
        if (bytes.length == 0) {
            throw ApiException.invalid("the request has no body: send a JSON object");
        }
        JsonNode n;
        try {
            n = mapper.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = DRAIN_BYTES;
        int n;
        while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
            left -= n;
        }
    }

    /** The field, or null if absent or JSON null. */
    JsonNode get(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    boolean has(String field) {
        return get(field) != null;
    }

    String string(String field, String def) {
        JsonNode v = get(field);
        if (v == null) {
            return def;
        }
        if (!v.isTextual()) {
            throw wrongType(field, "a string", v);
        }
        return v.textValue();
    }

    String requireString(String field) {
        String s = string(field, null);
        if (s == null) {
            throw ApiException.invalid(field, "'" + field + "' is required (a string)");
        }
        return s;
    }

    boolean bool(String field, boolean def) {
        JsonNode v = get(field);
        if (v == null) {
            return def;
        }
        if (!v.isBoolean()) {
            throw wrongType(field, "true or false", v);
        }
        return v.booleanValue();
    }

    /** An integer in [min, max], or {@code def} if absent. */
    long integer(String field, long def, long min, long max) {
        JsonNode v = get(field);
        if (v == null) {
            return def;
        }
        return integer(field, v, min, max);
    }

    static long integer(String field, JsonNode v, long min, long max) {
        if (!v.isNumber() || !v.canConvertToExactIntegral() || !v.canConvertToLong()) {
            throw wrongType(field, "an integer", v);
        }
        long x = v.longValue();
        if (x < min || x > max) {
            throw ApiException.invalid(field, "'" + field + "' must be in [" + min + ", " + max + "]; got " + x);
        }
        return x;
    }

    /** A number in [min, max], or {@code def} if absent. */
    double number(String field, double def, double min, double max) {
        JsonNode v = get(field);
        if (v == null) {
            return def;
        }
        if (!v.isNumber()) {
            throw wrongType(field, "a number", v);
        }
        double x = v.doubleValue();
        if (!(x >= min && x <= max)) {
            throw ApiException.invalid(field, "'" + field + "' must be in [" + min + ", " + max + "]; got " + x);
        }
        return x;
    }

    /** A string or an array of strings (e.g. {@code stop}), at most {@code maxItems}; empty if absent. */
    List<String> strings(String field, int maxItems) {
        JsonNode v = get(field);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.textValue());
        } else if (v.isArray()) {
            if (v.size() > maxItems) {
                throw ApiException.invalid(field, "'" + field + "' has " + v.size() + " items; at most " + maxItems);
            }
            for (JsonNode e : v) {
                if (!e.isTextual()) {
                    throw wrongType(field, "a string or an array of strings", v);
                }
                out.add(e.textValue());
            }
        } else {
            throw wrongType(field, "a string or an array of strings", v);
        }
        return out;
    }

    static ApiException wrongType(String field, String expected, JsonNode got) {
        return ApiException.invalid(field, "'" + field + "' must be " + expected + ", not " + kind(got));
    }

    static String kind(JsonNode n) {
        if (n == null || n.isNull()) {
            return "null";
        }
        if (n.isTextual()) {
            return "a string";
        }
        if (n.isNumber()) {
            return "the number " + n.asText();
        }
        if (n.isBoolean()) {
            return n.asText();
        }
        if (n.isArray()) {
            return "an array";
        }
        return "an object";
    }

    /** How long a request body may pause between bytes before the request fails and its thread is freed. */
    static final long BODY_TIMEOUT_MS = 10_000;

    /** The Jetty endpoint under the request, or null if it cannot be reached. */
    static org.eclipse.jetty.io.EndPoint endPoint(io.javalin.http.Context ctx) {
        try {
            return org.eclipse.jetty.ee10.servlet.ServletContextRequest.getServletContextRequest(ctx.req())
                    .getConnectionMetaData().getConnection().getEndPoint();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
