package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GeneratedToken;
import org.llamajava.chat.ChatFormat;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ToolCall;

/**
 * Anthropic's Messages API ({@code POST /v1/messages}, {@code POST /v1/messages/count_tokens}) as
 * llama-server serves it: the request is turned into an OpenAI chat request (system prompt,
 * text, image, {@code tool_use}, {@code tool_result} and {@code thinking} blocks, tools and tool
 * choice, {@code stop_sequences}, sampling fields), generated as a chat completion is, and
 * answered in Anthropic's shape: a {@code message} with content blocks ({@code thinking},
 * {@code text}, {@code tool_use}), {@code stop_reason} and {@code usage}; streamed as Anthropic's
 * named events ({@code message_start}, {@code content_block_start}, {@code content_block_delta},
 * {@code content_block_stop}, {@code message_delta}, {@code message_stop}).
 */
final class AnthropicApi {
    /** llama-server's answer to an image without a projector (a 500, as llama-server gives). */
    static final String NO_IMAGES = "image input is not supported - hint: if this is unexpected, you may need to"
            + " provide the mmproj (serve --mmproj FILE)";

    /** The fields read here; every other one passes through to the chat request. */
    private static final java.util.Set<String> ANTHROPIC_ONLY = java.util.Set.of("system", "messages", "tools",
            "tool_choice", "stop_sequences", "thinking", "metadata", "stop");

    /** Reads tool-call arguments (thread-safe once configured). */
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private AnthropicApi() {
    }

    /**
     * The OpenAI chat request an Anthropic Messages request stands for.
     *
     * @param images whether the server reads images (has a projector)
     */
    static JsonBody toOpenAi(JsonBody b, boolean images) {
        ObjectNode o = OpenAiFormat.F.objectNode();
        ArrayNode messages = o.putArray("messages");
        JsonNode system = b.get("system");
        if (system != null) {
            String text = system.isTextual() ? system.textValue() : blocksText("system", system);
            messages.addObject().put("role", "system").put("content", text);
        }
        JsonNode in = b.get("messages");
        if (in == null) {
            throw ApiException.invalid("messages", "'messages' is required: an array of {\"role\", \"content\"} objects");
        }
        if (!in.isArray()) {
            throw JsonBody.wrongType("messages", "an array", in);
        }
        if (in.size() > ChatPrompt.MAX_MESSAGES) {
            throw ApiException.invalid("messages", "'messages' has " + in.size() + " items; at most " + ChatPrompt.MAX_MESSAGES);
        }
        for (int i = 0; i < in.size(); i++) {
            message("messages[" + i + "]", in.get(i), messages, images);
        }
        JsonNode tools = b.get("tools");
        if (tools != null) {
            if (!tools.isArray()) {
                throw JsonBody.wrongType("tools", "an array of {\"name\", \"description\", \"input_schema\"}", tools);
            }
            ArrayNode out = o.putArray("tools");
            for (JsonNode t : tools) {
                JsonNode name = t.get("name");
                if (!t.isObject() || name == null || !name.isTextual()) {
                    throw ApiException.invalid("tools", "each tool is {\"name\", \"description\", \"input_schema\"}, not " + t);
                }
                ObjectNode f = out.addObject().put("type", "function").putObject("function");
                f.put("name", name.textValue());
                if (t.hasNonNull("description")) {
                    f.set("description", t.get("description"));
                }
                JsonNode schema = t.get("input_schema");
                f.set("parameters", schema == null || schema.isNull() ? OpenAiFormat.F.objectNode().put("type", "object") : schema);
            }
        }
        JsonNode choice = b.get("tool_choice");
        if (choice != null) {
            String type = choice.path("type").asText("");
            switch (type) {
                case "auto" -> o.put("tool_choice", "auto");
                case "any" -> o.put("tool_choice", "required");
                case "none" -> o.put("tool_choice", "none");
                case "tool" -> o.putObject("tool_choice").put("type", "function").putObject("function")
                        .put("name", choice.path("name").asText());
                default -> throw ApiException.invalid("tool_choice", "'tool_choice' must be {\"type\": \"auto\"},"
                        + " {\"type\": \"any\"}, {\"type\": \"none\"} or {\"type\": \"tool\", \"name\": ...}, not " + choice);
            }
            if (choice.path("disable_parallel_tool_use").isBoolean()) {
                o.put("parallel_tool_calls", !choice.get("disable_parallel_tool_use").booleanValue());
            }
        }
        // the other fields (max_tokens, temperature, top_p, top_k, stream, and llama-server's own such as seed,
        // logit_bias or repeat_penalty) pass through, as llama-server passes them
        b.node.fields().forEachRemaining(e -> {
            if (!ANTHROPIC_ONLY.contains(e.getKey()) && !o.has(e.getKey())) {
                o.set(e.getKey(), e.getValue());
            }
        });
        if (b.has("stop_sequences")) {
            o.set("stop", b.get("stop_sequences"));
        }
        JsonNode thinking = b.get("thinking");
        if (thinking != null && thinking.isObject()) {
            // {"type": "enabled", "budget_tokens": N} or {"type": "disabled"}: llama-server's reasoning switch
            o.putObject("chat_template_kwargs").put("enable_thinking", "enabled".equals(thinking.path("type").asText()));
        }
        return new JsonBody(o);
    }

    /** One Anthropic message as OpenAI messages (its {@code tool_result} blocks become {@code tool} messages). */
    private static void message(String at, JsonNode m, ArrayNode out, boolean images) {
        if (!m.isObject()) {
            throw JsonBody.wrongType(at, "an object", m);
        }
        String role = m.path("role").asText("");
        if (!role.equals("user") && !role.equals("assistant")) {
            throw ApiException.invalid(at + ".role", "'" + at + ".role' must be \"user\" or \"assistant\", not "
                    + JsonBody.kind(m.get("role")));
        }
        JsonNode content = m.get("content");
        if (content == null || content.isNull() || content.isTextual()) {
            out.addObject().put("role", role).put("content", content == null || content.isNull() ? "" : content.textValue());
            return;
        }
        if (!content.isArray()) {
            throw JsonBody.wrongType(at + ".content", "a string or an array of content blocks", content);
        }
        ArrayNode parts = OpenAiFormat.F.arrayNode();
        ArrayNode calls = OpenAiFormat.F.arrayNode();
        StringBuilder reasoning = new StringBuilder();
        List<ObjectNode> results = new ArrayList<>();
        for (JsonNode block : content) {
            String type = block.path("type").asText("");
            switch (type) {
                case "text" -> parts.addObject().put("type", "text").put("text", block.path("text").asText(""));
                case "image", "document" -> parts.add(image(at, block, images));
                case "thinking" -> reasoning.append(block.path("thinking").asText(""));
                case "redacted_thinking" -> { } // opaque: nothing to render
                case "tool_use" -> {
                    ObjectNode call = calls.addObject();
                    call.put("id", block.path("id").asText(""));
                    call.put("type", "function");
                    ObjectNode f = call.putObject("function");
                    f.put("name", block.path("name").asText(""));
                    JsonNode input = block.get("input");
                    f.put("arguments", input == null || input.isNull() ? "{}" : input.toString());
                }
                case "tool_result" -> {
                    ObjectNode r = OpenAiFormat.F.objectNode();
                    r.put("role", "tool");
                    r.put("tool_call_id", block.path("tool_use_id").asText(""));
                    JsonNode c = block.get("content");
                    String text;
                    if (c == null || c.isNull()) {
                        text = "";
                    } else if (c.isTextual()) {
                        text = c.textValue();
                    } else if (c.isArray()) {
                        StringBuilder sb = new StringBuilder();
                        for (JsonNode part : c) {
                            String t = part.path("type").asText("");
                            if (t.equals("image")) {
                                image(at, part, images); // refused without a projector, as llama-server does
                                throw ApiException.invalid(at + ".content", "images in tool results are not supported");
                            }
                            sb.append(part.path("text").asText(""));
                        }
                        text = sb.toString();
                    } else {
                        throw JsonBody.wrongType(at + ".content.tool_result.content", "a string or an array of text blocks", c);
                    }
                    r.put("content", text);
                    results.add(r);
                }
                default -> throw ApiException.invalid(at + ".content", "unknown content block type '" + type + "': this"
                        + " server reads text, image, thinking, tool_use and tool_result blocks");
            }
        }
        if (!parts.isEmpty() || !calls.isEmpty() || reasoning.length() > 0 || results.isEmpty()) {
            ObjectNode msg = out.addObject();
            msg.put("role", role);
            msg.set("content", parts.size() == 1 && parts.get(0).path("type").asText().equals("text")
                    ? parts.get(0).get("text") : parts.isEmpty() ? OpenAiFormat.F.textNode("") : parts);
            if (reasoning.length() > 0) {
                msg.put("reasoning_content", reasoning.toString());
            }
            if (!calls.isEmpty()) {
                msg.set("tool_calls", calls);
            }
        }
        results.forEach(out::add);
    }

    /** An image block ({@code source}: base64 or a URL) as an OpenAI {@code image_url} part. */
    private static ObjectNode image(String at, JsonNode block, boolean images) {
        if (!images) {
            throw new ApiException(500, "server_error", null, null, NO_IMAGES);
        }
        JsonNode source = block.path("source");
        String url = switch (source.path("type").asText("")) {
            case "base64" -> "data:" + source.path("media_type").asText("image/png") + ";base64," + source.path("data").asText("");
            case "url" -> source.path("url").asText("");
            default -> throw ApiException.invalid(at + ".content", "an image block's source must be {\"type\": \"base64\","
                    + " \"media_type\", \"data\"} or {\"type\": \"url\", \"url\"}");
        };
        ObjectNode part = OpenAiFormat.F.objectNode();
        part.put("type", "image_url");
        part.putObject("image_url").put("url", url);
        return part;
    }

    private static String blocksText(String at, JsonNode v) {
        if (!v.isArray()) {
            throw JsonBody.wrongType(at, "a string or an array of text blocks", v);
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : v) {
            sb.append(part.path("text").asText(""));
        }
        return sb.toString();
    }

    /** Anthropic's {@code stop_reason}. */
    static String stopReason(Completion c, ChatMessage reply) {
        if (reply != null && reply.hasToolCalls() && c.finishReason() != FinishReason.MAX_TOKENS) {
            return "tool_use";
        }
        return switch (c.finishReason()) {
            case MAX_TOKENS -> "max_tokens";
            case STOP_STRING -> "stop_sequence";
            default -> "end_turn";
        };
    }

    static ObjectNode usage(int inputTokens, int cached, int outputTokens) {
        ObjectNode u = OpenAiFormat.F.objectNode();
        u.put("cache_creation_input_tokens", 0);
        u.put("cache_read_input_tokens", cached);
        u.put("input_tokens", inputTokens - cached);
        u.put("output_tokens", outputTokens);
        return u;
    }

    /** The whole reply: {@code {"id", "type": "message", "role", "model", "content": [...], "stop_reason", "usage"}}. */
    static ObjectNode message(String id, String model, Completion c, ChatMessage reply, int promptTokens) {
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("id", id);
        o.put("type", "message");
        o.put("role", "assistant");
        o.put("model", model);
        ArrayNode content = o.putArray("content");
        if (!reply.reasoningContent().isEmpty()) {
            content.addObject().put("type", "thinking").put("thinking", reply.reasoningContent()).put("signature", "");
        }
        if (!reply.content().isEmpty() || !reply.hasToolCalls()) {
            content.addObject().put("type", "text").put("text", reply.content());
        }
        for (ToolCall call : reply.toolCalls()) {
            content.add(toolUse(call));
        }
        o.put("stop_reason", stopReason(c, reply));
        o.putNull("stop_sequence");
        o.set("usage", usage(promptTokens, c.cachedTokens(), c.tokenCount()));
        return o;
    }

    private static ObjectNode toolUse(ToolCall call) {
        ObjectNode b = OpenAiFormat.F.objectNode();
        b.put("type", "tool_use");
        b.put("id", call.id().isEmpty() ? OpenAiFormat.id("toolu_") : call.id());
        b.put("name", call.name());
        JsonNode input;
        try {
            input = JSON.readTree(call.arguments());
        } catch (java.io.IOException e) {
            input = null;
        }
        b.set("input", input != null && input.isObject() ? input : OpenAiFormat.F.objectNode());
        return b;
    }

    /** A streamed reply's events; one choice. */
    static final class Chunks extends EventChunks {
        private final String id;
        private final String model;
        private final int promptTokens;
        /** The open block's index and kind ("text" or "thinking"), or -1 and null. */
        private int open = -1;
        private String openKind;
        private int next;

        Chunks(String id, String model, int promptTokens, ChatFormat format) {
            super(format);
            this.id = id;
            this.model = model;
            this.promptTokens = promptTokens;
        }

        private static ObjectNode event(String type) {
            return OpenAiFormat.F.objectNode().put("type", type);
        }

        @Override
        public List<ObjectNode> start(int choice) {
            ObjectNode e = event("message_start");
            ObjectNode m = e.putObject("message");
            m.put("id", id);
            m.put("type", "message");
            m.put("role", "assistant");
            m.put("model", model);
            m.putArray("content");
            m.putNull("stop_reason");
            m.putNull("stop_sequence");
            m.set("usage", AnthropicApi.usage(promptTokens, 0, 0));
            return List.of(e);
        }

        /** Deltas of {@code kind}, opening its block (and closing another) first. */
        private void delta(List<ObjectNode> out, String kind, String text) {
            if (text.isEmpty()) {
                return;
            }
            if (!kind.equals(openKind)) {
                closeBlock(out);
                open = next++;
                openKind = kind;
                ObjectNode s = event("content_block_start");
                s.put("index", open);
                ObjectNode block = s.putObject("content_block");
                block.put("type", kind);
                if (kind.equals("thinking")) {
                    block.put("thinking", "").put("signature", "");
                } else {
                    block.put("text", "");
                }
                out.add(s);
            }
            ObjectNode d = event("content_block_delta");
            d.put("index", open);
            ObjectNode delta = d.putObject("delta");
            if (kind.equals("thinking")) {
                delta.put("type", "thinking_delta").put("thinking", text);
            } else {
                delta.put("type", "text_delta").put("text", text);
            }
            out.add(d);
        }

        private void closeBlock(List<ObjectNode> out) {
            if (open >= 0) {
                out.add(event("content_block_stop").put("index", open));
                open = -1;
                openKind = null;
            }
        }

        private void flushParsed(List<ObjectNode> out) {
            delta(out, "thinking", take(reasoning));
            delta(out, "text", take(content));
        }

        @Override
        public List<ObjectNode> textChunks(int choice, String text, List<GeneratedToken> tokens) {
            List<ObjectNode> out = new ArrayList<>();
            if (reply == null) {
                delta(out, "text", text);
            } else {
                reply.push(text);
                flushParsed(out);
            }
            return out;
        }

        @Override
        public List<ObjectNode> finishChunks(int choice, Completion c, List<GeneratedToken> tokens) {
            List<ObjectNode> out = new ArrayList<>();
            ChatMessage message = reply == null ? ChatMessage.assistant(c.text()) : reply.finish(c.text());
            flushParsed(out);
            if (next == 0 && !message.hasToolCalls()) {
                // an empty reply still has its text block
                ObjectNode s = event("content_block_start");
                s.put("index", next++);
                s.putObject("content_block").put("type", "text").put("text", "");
                out.add(s);
                out.add(event("content_block_stop").put("index", next - 1));
            }
            closeBlock(out);
            for (ToolCall call : message.toolCalls()) {
                int index = next++;
                ObjectNode use = toolUse(call);
                ObjectNode s = event("content_block_start");
                s.put("index", index);
                ObjectNode block = s.putObject("content_block");
                block.put("type", "tool_use").put("id", use.get("id").asText()).put("name", call.name());
                block.putObject("input");
                out.add(s);
                ObjectNode d = event("content_block_delta");
                d.put("index", index);
                d.putObject("delta").put("type", "input_json_delta").put("partial_json", use.get("input").toString());
                out.add(d);
                out.add(event("content_block_stop").put("index", index));
            }
            ObjectNode md = event("message_delta");
            md.putObject("delta").put("stop_reason", stopReason(c, message)).putNull("stop_sequence");
            md.set("usage", AnthropicApi.usage(promptTokens, c.cachedTokens(), c.tokenCount()));
            out.add(md);
            out.add(event("message_stop"));
            return out;
        }

        @Override
        public ObjectNode error(ObjectNode body) {
            ObjectNode e = event("error");
            ObjectNode err = e.putObject("error");
            err.put("type", body.path("error").path("type").asText("api_error"));
            err.put("message", body.path("error").path("message").asText(""));
            return e;
        }
    }
}
