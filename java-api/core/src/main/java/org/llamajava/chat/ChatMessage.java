package org.llamajava.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.internal.Json;
import org.llamajava.multimodal.Media;

/**
 * One message of a chat.
 *
 * @param role             {@code system}, {@code user}, {@code assistant}, {@code tool}, or another
 *                         role the template knows
 * @param content          the text ("" if none, e.g. an assistant message with only tool calls)
 * @param reasoningContent the assistant's reasoning, apart from its content ("" if none)
 * @param toolCalls        the tool calls of an assistant message
 * @param toolName         the tool a {@code tool} message answers ("" if none)
 * @param toolCallId       the call a {@code tool} message answers ("" if none)
 * @param media            images or audio the message carries, in the order of the media markers
 *                         ({@link org.llamajava.multimodal.Projector#marker()}) in its content; a
 *                         chat evaluates them through its projector
 *                         ({@link ChatSession#setProjector}). Empty for a text message.
 */
public record ChatMessage(String role, String content, String reasoningContent, List<ToolCall> toolCalls,
                          String toolName, String toolCallId, List<Media> media) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
    public static final String TOOL = "tool";

    public ChatMessage {
        if (role == null || role.isBlank()) {
            throw new IllegalArgumentException("role must not be blank");
        }
        if (content == null) {
            throw new IllegalArgumentException("content must not be null");
        }
        reasoningContent = reasoningContent == null ? "" : reasoningContent;
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        toolName = toolName == null ? "" : toolName;
        toolCallId = toolCallId == null ? "" : toolCallId;
        media = media == null ? List.of() : List.copyOf(media);
    }

    /** A message without media. */
    public ChatMessage(String role, String content, String reasoningContent, List<ToolCall> toolCalls,
                       String toolName, String toolCallId) {
        this(role, content, reasoningContent, toolCalls, toolName, toolCallId, List.of());
    }

    /**
     * A user message with images or audio: unless {@code text} already holds one media marker per
     * media (where each goes), a marker per media is put before the text, as llama.cpp's
     * mtmd-cli does.
     */
    public static ChatMessage user(String text, List<Media> media) {
        if (text == null || media == null) {
            throw new IllegalArgumentException("text and media are required");
        }
        String marker = org.llamajava.multimodal.Projector.marker();
        int markers = text.isEmpty() ? 0 : text.split(java.util.regex.Pattern.quote(marker), -1).length - 1;
        String content = markers == media.size() ? text : marker.repeat(media.size()) + text;
        return new ChatMessage(USER, content, "", List.of(), "", "", media);
    }

    /** Whether this message carries images or audio. */
    public boolean hasMedia() {
        return !media.isEmpty();
    }

    /** A message with only a role and text. */
    public ChatMessage(String role, String content) {
        this(role, content, "", List.of(), "", "");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }

    /** An assistant message with tool calls (and content, possibly ""). */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage(ASSISTANT, content, "", toolCalls, "", "");
    }

    /** The result of a tool call, to send back to the model. */
    public static ChatMessage toolResult(ToolCall call, String result) {
        return new ChatMessage(TOOL, result, "", List.of(), call.name(), call.id());
    }

    /** Whether this message calls tools. */
    public boolean hasToolCalls() {
        return !toolCalls.isEmpty();
    }

    /** This message in OpenAI's chat format, as llama.cpp's chat API reads it. */
    public ObjectNode toJson() {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("role", role);
        m.put("content", content);
        if (!reasoningContent.isEmpty()) {
            m.put("reasoning_content", reasoningContent);
        }
        if (!toolName.isEmpty()) {
            m.put("name", toolName);
        }
        if (!toolCallId.isEmpty()) {
            m.put("tool_call_id", toolCallId);
        }
        if (!toolCalls.isEmpty()) {
            ArrayNode calls = m.putArray("tool_calls");
            for (ToolCall c : toolCalls) {
                ObjectNode call = calls.addObject();
                call.put("type", "function");
                if (!c.id().isEmpty()) {
                    call.put("id", c.id());
                }
                ObjectNode f = call.putObject("function");
                f.put("name", c.name());
                f.put("arguments", c.arguments());
            }
        }
        return m;
    }

    /** A message as the shim returns parsed output: role, content, reasoning_content, tool_calls. */
    static ChatMessage fromParsed(JsonNode n) {
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode c : n.path("tool_calls")) {
            calls.add(new ToolCall(c.path("name").asText(), c.path("arguments").asText(), c.path("id").asText()));
        }
        return new ChatMessage(n.path("role").asText(ASSISTANT), n.path("content").asText(""),
                n.path("reasoning_content").asText(""), calls, "", "");
    }
}
