package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llamajava.LoraAdapter;
import org.llamajava.batch.BatchEngine;

/**
 * llama-server's LoRA adapters: {@code GET /lora-adapters} lists the adapters the server was
 * started with ({@code id}, {@code path}, {@code scale}: the scale of requests that name none),
 * {@code POST /lora-adapters} sets those scales ({@code [{"id": 0, "scale": 0.5}, ...]}, an
 * adapter not listed gets 0), and a generation request's {@code "lora"} field, of the same shape,
 * sets them for that request alone (an empty array: the server's). Ids are the adapters' order
 * on the command line ({@code --lora}, {@code --lora-scaled}) or in the context setup.
 */
final class LoraApi {
    private final ServerContext server;
    /** Null for a server that does not generate: it has no adapters. */
    private final BatchEngine engine;
    private final List<LoraAdapter> adapters;

    LoraApi(ServerContext server, BatchEngine engine) {
        this.server = server;
        this.engine = engine;
        this.adapters = engine == null ? List.of() : List.copyOf(engine.loraAdapters().keySet());
    }

    /** The default scales of the adapters, in id order. */
    List<Float> defaultScales() {
        Map<LoraAdapter, Float> scales = engine == null ? Map.of() : engine.loraAdapters();
        return adapters.stream().map(a -> scales.getOrDefault(a, 0f)).toList();
    }

    void list(Context ctx) {
        Map<LoraAdapter, Float> scales = engine == null ? Map.of() : engine.loraAdapters();
        ArrayNode a = OpenAiFormat.F.arrayNode();
        for (int i = 0; i < adapters.size(); i++) {
            ObjectNode o = a.addObject();
            o.put("id", i);
            o.put("path", adapters.get(i).path().toString());
            o.put("scale", scales.getOrDefault(adapters.get(i), 0f));
        }
        ctx.contentType("application/json").result(server.json(a));
    }

    void set(Context ctx) {
        JsonNode body = JsonBody.readAny(ctx, server.mapper(), server.config().maxBodyBytes());
        if (!body.isArray()) {
            throw ApiException.invalid("request body must be an array of {\"id\": N, \"scale\": X}, e.g."
                    + " [{\"id\": 0, \"scale\": 0.5}]; GET /lora-adapters lists the ids");
        }
        Map<LoraAdapter, Float> scales = scales(body, "body");
        if (engine != null) {
            engine.setLoraAdapters(scales);
        }
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("success", true);
        ctx.contentType("application/json").result(server.json(o));
    }

    /**
     * A request's {@code "lora"} field: null when absent, null or empty (the server's adapters),
     * else every adapter with its listed scale or 0.
     */
    Map<LoraAdapter, Float> read(JsonBody b) {
        JsonNode v = b.get("lora");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            throw JsonBody.wrongType("lora", "an array of {\"id\": N, \"scale\": X}", v);
        }
        return v.isEmpty() ? null : scales(v, "lora");
    }

    private Map<LoraAdapter, Float> scales(JsonNode list, String field) {
        Map<Integer, Float> given = new LinkedHashMap<>();
        for (JsonNode e : list) {
            if (!e.isObject()) {
                throw ApiException.invalid(field, "each LoRA entry must be an object {\"id\": N, \"scale\": X}");
            }
            JsonNode id = e.get("id");
            if (id == null || !id.canConvertToInt() || !id.isIntegralNumber()) {
                throw ApiException.invalid(field, "each LoRA entry needs an integer \"id\"; GET /lora-adapters lists them");
            }
            if (id.intValue() < 0 || id.intValue() >= adapters.size()) {
                throw ApiException.invalid(field, "no LoRA adapter has id " + id.intValue() + ": this server has "
                        + adapters.size() + (adapters.isEmpty() ? " (start it with --lora FNAME)"
                        : " (ids 0 to " + (adapters.size() - 1) + ")"));
            }
            JsonNode scale = e.get("scale");
            float s = 0f;
            if (scale != null && !scale.isNull()) {
                if (!scale.isNumber() || !Float.isFinite(scale.floatValue())) {
                    throw ApiException.invalid(field, "a LoRA \"scale\" must be a finite number");
                }
                s = scale.floatValue();
            }
            given.put(id.intValue(), s);
        }
        Map<LoraAdapter, Float> out = new LinkedHashMap<>();
        for (int i = 0; i < adapters.size(); i++) {
            out.put(adapters.get(i), given.getOrDefault(i, 0f));
        }
        return out;
    }
}
