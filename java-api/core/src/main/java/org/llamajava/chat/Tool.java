package org.llamajava.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.grammar.JsonSchema;
import org.llamajava.internal.Json;
import org.llamajava.internal.RecordSchemas;

/**
 * A function the model may call: its name, what it does, and the JSON Schema of its arguments (an
 * object). Give tools to a {@link ChatSession} with {@link ChatOptions}.
 *
 * <pre>{@code
 * record Weather(String city, Optional<String> unit) {}
 * Tool weather = Tool.fromRecord("get_weather", "The current weather in a city", Weather.class);
 * }</pre>
 *
 * @param name        the function's name (letters, digits, '_' and '-')
 * @param description what it does, for the model
 * @param parameters  the JSON Schema of its arguments object
 */
public record Tool(String name, String description, JsonSchema parameters) {
    public Tool {
        if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("a tool name is 1 to 64 letters, digits, '_', '.' or '-'; got '" + name + "'");
        }
        description = description == null ? "" : description;
        if (parameters == null) {
            parameters = JsonSchema.of("{\"type\": \"object\", \"properties\": {}}");
        }
        JsonNode p = parameters.node();
        if (!p.isObject() || (p.has("type") && !"object".equals(p.get("type").asText()))) {
            throw new IllegalArgumentException("the parameters of tool " + name + " must be an object schema"
                    + " ({\"type\": \"object\", \"properties\": {...}}); got " + parameters.json());
        }
        if (p.has("properties") && !p.get("properties").isObject()) {
            throw new IllegalArgumentException("the parameters of tool " + name + " have 'properties' that are not an"
                    + " object: " + parameters.json());
        }
        try {
            parameters.toGbnf();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the parameters schema of tool " + name + " is not usable: "
                    + e.getMessage(), e);
        }
    }

    /** A tool whose parameters are given as JSON Schema text. */
    public static Tool of(String name, String description, String parametersSchema) {
        return new Tool(name, description, JsonSchema.of(parametersSchema));
    }

    /** A tool whose arguments are a record's components (read them back with {@link ToolCall#arguments(Class)}). */
    public static Tool fromRecord(String name, String description, Class<? extends Record> arguments) {
        return new Tool(name, description, JsonSchema.of(arguments));
    }

    /**
     * A tool for a Java method: its name, and its parameters as the arguments object (names from
     * {@code -parameters} or Jackson's {@code @JsonProperty}).
     */
    public static Tool fromMethod(Method method, String description) {
        return new Tool(method.getName(), description, JsonSchema.of(RecordSchemas.schemaOf(method.getParameters(),
                method.getDeclaringClass().getSimpleName() + "." + method.getName())));
    }

    /** OpenAI-style tool definitions ({@code [{"type": "function", "function": {...}}]}), as {@code --tools} files hold. */
    public static List<Tool> listFromJson(String json) {
        JsonNode n = Json.parse(json, "the tool definitions");
        if (!n.isArray()) {
            throw new IllegalArgumentException("tool definitions must be a JSON array of {\"type\": \"function\", \"function\": ...}");
        }
        List<Tool> tools = new ArrayList<>();
        for (JsonNode t : n) {
            JsonNode f = t.has("function") ? t.get("function") : t;
            if (t.has("type") && !"function".equals(t.get("type").asText())) {
                throw new IllegalArgumentException("unsupported tool type " + t.get("type") + "; only function tools");
            }
            if (!f.hasNonNull("name")) {
                throw new IllegalArgumentException("a tool definition has no name: " + t);
            }
            JsonNode params = f.get("parameters");
            tools.add(new Tool(f.get("name").asText(), f.path("description").asText(""),
                    params == null || params.isNull() ? null : JsonSchema.of(params)));
        }
        return tools;
    }

    /** This tool as an OpenAI-style definition. */
    public ObjectNode toJson() {
        ObjectNode t = Json.MAPPER.createObjectNode();
        t.put("type", "function");
        ObjectNode f = t.putObject("function");
        f.put("name", name);
        f.put("description", description);
        f.set("parameters", parameters.node());
        return t;
    }
}
