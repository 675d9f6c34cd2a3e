package org.llamajava.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import org.llamajava.LlamaException;
import org.llamajava.internal.Json;

/**
 * A call of a {@link Tool} that the model made, as llama.cpp's chat parser read it from the
 * model's output.
 *
 * @param name      the tool's name
 * @param arguments the arguments as JSON text (an object)
 * @param id        the call's id, given by the model or the format ("" if none)
 */
public record ToolCall(String name, String arguments, String id) {
    public ToolCall {
        if (name == null) {
            throw new IllegalArgumentException("tool call name is null");
        }
        arguments = arguments == null ? "" : arguments;
        id = id == null ? "" : id;
    }

    /** The arguments as a Jackson tree. */
    public JsonNode argumentsJson() {
        return Json.parse(arguments.isEmpty() ? "{}" : arguments, "the arguments of tool call " + name);
    }

    /**
     * The arguments read into a type (a record whose components are the parameters, say).
     *
     * @throws LlamaException if they do not fit the type
     */
    public <T> T arguments(Class<T> type) {
        try {
            return Json.MAPPER.treeToValue(argumentsJson(), type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new LlamaException("the arguments of tool call " + name + " do not fit " + type.getSimpleName() + ": "
                    + e.getMessage() + "; arguments: " + arguments, e);
        }
    }
}
