package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.GeneratedToken;
import org.llamajava.chat.ChatFormat;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ToolCall;

/**
 * OpenAI's Responses API ({@code POST /v1/responses}, also {@code /responses}) as llama-server
 * serves it: {@code input} (text, or messages and {@code function_call} /
 * {@code function_call_output} items) and {@code instructions} become a chat request, generated
 * as a chat completion is, and the reply is a {@code response} whose {@code output} holds a
 * {@code reasoning} item, a {@code message} with {@code output_text}, and {@code function_call}
 * items; streamed as the Responses API's named events ({@code response.created},
 * {@code response.output_text.delta}, ..., {@code response.completed}). Stateless: no
 * {@code previous_response_id}, nothing is stored.
 */
final class ResponsesApi {
    private ResponsesApi() {
    }

    /** The chat request a Responses request stands for. */
    static JsonBody toOpenAi(JsonBody b) {
        ObjectNode o = OpenAiFormat.F.objectNode();
        ArrayNode messages = o.putArray("messages");
        JsonNode instructions = b.get("instructions");
        if (instructions != null && instructions.isTextual()) {
            messages.addObject().put("role", "system").put("content", instructions.textValue());
        }
        if (b.has("previous_response_id")) {
            throw ApiException.invalid("previous_response_id", "this server stores no responses: send the whole"
                    + " conversation in 'input'");
        }
        JsonNode input = b.get("input");
        if (input == null) {
            throw ApiException.invalid("input", "'input' is required: text, or an array of messages");
        }
        if (input.isTextual()) {
            messages.addObject().put("role", "user").put("content", input.textValue());
        } else if (input.isArray()) {
            if (input.size() > ChatPrompt.MAX_MESSAGES) {
                throw ApiException.invalid("input", "'input' has " + input.size() + " items; at most " + ChatPrompt.MAX_MESSAGES);
            }
            for (int i = 0; i < input.size(); i++) {
                item("input[" + i + "]", input.get(i), messages);
            }
        } else {
            throw JsonBody.wrongType("input", "text or an array of messages", input);
        }
        JsonNode tools = b.get("tools");
        if (tools != null) {
            if (!tools.isArray()) {
                throw JsonBody.wrongType("tools", "an array of {\"type\": \"function\", \"name\", \"parameters\"}", tools);
            }
            ArrayNode out = o.putArray("tools");
            for (JsonNode t : tools) {
                if (!"function".equals(t.path("type").asText()) || !t.path("name").isTextual()) {
                    throw ApiException.invalid("tools", "only function tools are served: {\"type\": \"function\", \"name\","
                            + " \"parameters\"}, not " + t);
                }
                ObjectNode f = out.addObject().put("type", "function").putObject("function");
                f.put("name", t.get("name").textValue());
                if (t.hasNonNull("description")) {
                    f.set("description", t.get("description"));
                }
                f.set("parameters", t.hasNonNull("parameters") ? t.get("parameters")
                        : OpenAiFormat.F.objectNode().put("type", "object"));
            }
        }
        JsonNode choice = b.get("tool_choice");
        if (choice != null) {
            if (choice.isTextual()) {
                o.set("tool_choice", choice);
            } else if ("function".equals(choice.path("type").asText())) {
                o.putObject("tool_choice").put("type", "function").putObject("function")
                        .put("name", choice.path("name").asText());
            } else {
                throw ApiException.invalid("tool_choice", "'tool_choice' must be auto, none, required or {\"type\":"
                        + " \"function\", \"name\"}");
            }
        }
        JsonNode format = b.get("text") == null ? null : b.get("text").get("format");
        if (format != null && "json_schema".equals(format.path("type").asText())) {
            o.putObject("response_format").put("type", "json_schema").putObject("json_schema")
                    .set("schema", format.get("schema"));
        } else if (format != null && "json_object".equals(format.path("type").asText())) {
            o.putObject("response_format").put("type", "json_object");
        }
        if (b.has("max_output_tokens")) {
            o.set("max_tokens", b.get("max_output_tokens"));
        }
        java.util.Set<String> own = java.util.Set.of("input", "instructions", "tools", "tool_choice", "text",
                "max_output_tokens", "messages", "store", "previous_response_id", "reasoning", "include", "truncation",
                "metadata", "user");
        b.node.fields().forEachRemaining(e -> {
            if (!own.contains(e.getKey()) && !o.has(e.getKey())) {
                o.set(e.getKey(), e.getValue()); // temperature, top_p, stream, and llama-server's own fields
            }
        });
        return new JsonBody(o);
    }

    /** One input item: a message, or a function call or its output. */
    private static void item(String at, JsonNode m, ArrayNode out) {
        if (!m.isObject()) {
            throw JsonBody.wrongType(at, "an object", m);
        }
        String type = m.path("type").asText("message");
        switch (type) {
            case "function_call" -> {
                ObjectNode msg = out.addObject().put("role", "assistant").put("content", "");
                ObjectNode call = msg.putArray("tool_calls").addObject();
                call.put("id", m.path("call_id").asText(""));
                call.put("type", "function");
                call.putObject("function").put("name", m.path("name").asText("")).put("arguments",
                        m.path("arguments").asText("{}"));
            }
            case "function_call_output" -> out.addObject().put("role", "tool")
                    .put("tool_call_id", m.path("call_id").asText("")).put("content", m.path("output").asText(""));
            case "message" -> {
                ObjectNode msg = out.addObject();
                msg.put("role", m.path("role").asText("user"));
                JsonNode c = m.get("content");
                if (c == null || c.isNull() || c.isTextual()) {
                    msg.put("content", c == null || c.isNull() ? "" : c.textValue());
                } else if (c.isArray()) {
                    ArrayNode parts = msg.putArray("content");
                    for (JsonNode p : c) {
                        String pt = p.path("type").asText("");
                        switch (pt) {
                            case "input_text", "output_text", "text" -> parts.addObject().put("type", "text")
                                    .put("text", p.path("text").asText(""));
                            case "input_image" -> parts.addObject().put("type", "image_url").putObject("image_url")
                                    .put("url", p.path("image_url").asText(""));
                            default -> throw ApiException.invalid(at + ".content", "unknown content type '" + pt
                                    + "': this server reads input_text, output_text and input_image");
                        }
                    }
                } else {
                    throw JsonBody.wrongType(at + ".content", "text or an array of content parts", c);
                }
            }
            default -> throw ApiException.invalid(at, "unknown input item type '" + type + "': this server reads"
                    + " messages, function_call and function_call_output");
        }
    }

    private static ObjectNode messageItem(String id, String text, String status) {
        ObjectNode m = OpenAiFormat.F.objectNode();
        m.put("type", "message");
        m.put("id", id);
        m.put("status", status);
        m.put("role", "assistant");
        ArrayNode content = m.putArray("content");
        if (text != null) {
            content.add(textPart(text));
        }
        return m;
    }

    private static ObjectNode textPart(String text) {
        ObjectNode p = OpenAiFormat.F.objectNode();
        p.put("type", "output_text");
        p.put("text", text);
        p.putArray("annotations");
        return p;
    }

    private static ObjectNode callItem(ToolCall call) {
        ObjectNode f = OpenAiFormat.F.objectNode();
        f.put("type", "function_call");
        f.put("id", OpenAiFormat.id("fc_"));
        String callId = call.id().isEmpty() ? OpenAiFormat.id("call_") : call.id();
        f.put("call_id", callId);
        f.put("name", call.name());
        f.put("arguments", call.arguments());
        f.put("status", "completed");
        return f;
    }

    /** The response object: {@code status} and, once done, {@code output} and {@code usage}. */
    static ObjectNode response(String id, long created, String model, String status, ArrayNode output, ObjectNode usage) {
        ObjectNode r = OpenAiFormat.F.objectNode();
        r.put("id", id);
        r.put("object", "response");
        r.put("created_at", created);
        r.put("status", status);
        r.put("model", model);
        r.set("output", output == null ? OpenAiFormat.F.arrayNode() : output);
        if (usage != null) {
            r.set("usage", usage);
        }
        return r;
    }

    static ObjectNode usage(int promptTokens, Completion c) {
        ObjectNode u = OpenAiFormat.F.objectNode();
        u.put("input_tokens", promptTokens);
        u.putObject("input_tokens_details").put("cached_tokens", c.cachedTokens());
        u.put("output_tokens", c.tokenCount());
        u.putObject("output_tokens_details").put("reasoning_tokens", 0);
        u.put("total_tokens", promptTokens + c.tokenCount());
        return u;
    }

    /** The output items of a finished reply. */
    static ArrayNode output(String messageId, ChatMessage reply) {
        ArrayNode out = OpenAiFormat.F.arrayNode();
        if (!reply.reasoningContent().isEmpty()) {
            ObjectNode r = out.addObject();
            r.put("type", "reasoning");
            r.put("id", OpenAiFormat.id("rs_"));
            r.putArray("summary");
            r.putArray("content").addObject().put("type", "reasoning_text").put("text", reply.reasoningContent());
        }
        if (!reply.content().isEmpty() || !reply.hasToolCalls()) {
            out.add(messageItem(messageId, reply.content(), "completed"));
        }
        for (ToolCall call : reply.toolCalls()) {
            out.add(callItem(call));
        }
        return out;
    }

    /** A streamed response's events; one choice. */
    static final class Chunks extends EventChunks {
        private final String id;
        private final String messageId = OpenAiFormat.id("msg_");
        private final long created;
        private final String model;
        private final int promptTokens;
        private final boolean timingsPerToken;
        private final StringBuilder text = new StringBuilder();
        private final long start = System.nanoTime();
        private long firstToken;
        private int generated;
        private int sequence;
        private boolean opened;

        Chunks(String id, long created, String model, int promptTokens, ChatFormat format, boolean timingsPerToken) {
            super(format);
            this.id = id;
            this.created = created;
            this.model = model;
            this.promptTokens = promptTokens;
            this.timingsPerToken = timingsPerToken;
        }

        private ObjectNode event(String type) {
            ObjectNode e = OpenAiFormat.F.objectNode();
            e.put("type", type);
            e.put("sequence_number", sequence++);
            return e;
        }

        @Override
        public List<ObjectNode> start(int choice) {
            ObjectNode created = event("response.created");
            created.set("response", response(id, this.created, model, "in_progress", null, null));
            ObjectNode progress = event("response.in_progress");
            progress.set("response", response(id, this.created, model, "in_progress", null, null));
            return List.of(created, progress);
        }

        @Override
        public List<ObjectNode> progressChunks(int choice, int total, int cached, int processed, long nanos) {
            ObjectNode e = event("response.in_progress");
            e.set("response", response(id, created, model, "in_progress", null, null));
            ObjectNode p = e.putObject("prompt_progress");
            p.put("total", total);
            p.put("cache", cached);
            p.put("processed", processed);
            p.put("time_ms", processed > cached ? nanos / 1e6 : 0);
            return List.of(e);
        }

        private void open(List<ObjectNode> out) {
            if (opened) {
                return;
            }
            opened = true;
            ObjectNode added = event("response.output_item.added");
            added.put("output_index", 0);
            added.set("item", messageItem(messageId, null, "in_progress"));
            out.add(added);
            ObjectNode part = event("response.content_part.added");
            part.put("item_id", messageId);
            part.put("output_index", 0);
            part.put("content_index", 0);
            part.set("part", textPart(""));
            out.add(part);
        }

        private ObjectNode timings() {
            long now = System.nanoTime();
            ObjectNode t = OpenAiFormat.F.objectNode();
            double promptMs = ((firstToken == 0 ? now : firstToken) - start) / 1e6;
            double predictedMs = firstToken == 0 ? 0 : (now - firstToken) / 1e6;
            t.put("prompt_n", promptTokens);
            t.put("prompt_ms", promptMs);
            t.put("prompt_per_second", promptMs > 0 ? promptTokens / (promptMs / 1e3) : 0);
            t.put("predicted_n", generated);
            t.put("predicted_ms", predictedMs);
            t.put("predicted_per_second", predictedMs > 0 && generated > 1 ? (generated - 1) / (predictedMs / 1e3) : 0);
            return t;
        }

        @Override
        public List<ObjectNode> textChunks(int choice, String piece, List<GeneratedToken> tokens) {
            if (firstToken == 0) {
                firstToken = System.nanoTime();
            }
            generated += tokens == null ? 0 : tokens.size();
            String delta;
            if (reply == null) {
                delta = piece;
            } else {
                reply.push(piece);
                delta = take(content);
                reasoning.setLength(0); // reasoning is reported whole, as the reasoning output item
            }
            List<ObjectNode> out = new ArrayList<>();
            if (delta.isEmpty()) {
                return out;
            }
            open(out);
            text.append(delta);
            ObjectNode d = event("response.output_text.delta");
            d.put("item_id", messageId);
            d.put("output_index", 0);
            d.put("content_index", 0);
            d.put("delta", delta);
            if (timingsPerToken) {
                d.set("timings", timings());
            }
            out.add(d);
            return out;
        }

        @Override
        public List<ObjectNode> finishChunks(int choice, Completion c, List<GeneratedToken> tokens) {
            List<ObjectNode> out = new ArrayList<>();
            ChatMessage message = reply == null ? ChatMessage.assistant(c.text()) : reply.finish(c.text());
            String rest = take(content);
            if (!rest.isEmpty()) {
                open(out);
                text.append(rest);
                ObjectNode d = event("response.output_text.delta");
                d.put("item_id", messageId).put("output_index", 0).put("content_index", 0).put("delta", rest);
                out.add(d);
            }
            if (opened || !message.hasToolCalls()) {
                open(out);
                ObjectNode done = event("response.output_text.done");
                done.put("item_id", messageId).put("output_index", 0).put("content_index", 0).put("text", text.toString());
                out.add(done);
                ObjectNode partDone = event("response.content_part.done");
                partDone.put("item_id", messageId).put("output_index", 0).put("content_index", 0);
                partDone.set("part", textPart(text.toString()));
                out.add(partDone);
                ObjectNode itemDone = event("response.output_item.done");
                itemDone.put("output_index", 0);
                itemDone.set("item", messageItem(messageId, text.toString(), "completed"));
                out.add(itemDone);
            }
            ArrayNode output = OpenAiFormat.F.arrayNode();
            output.addAll(output(messageId, new ChatMessage(ChatMessage.ASSISTANT, text.toString(),
                    message.reasoningContent(), message.toolCalls(), "", "", List.of())));
            int index = opened ? 1 : 0;
            for (ToolCall call : message.toolCalls()) {
                ObjectNode item = callItem(call);
                ObjectNode added = event("response.output_item.added");
                added.put("output_index", index);
                added.set("item", item);
                out.add(added);
                ObjectNode done = event("response.output_item.done");
                done.put("output_index", index++);
                done.set("item", item);
                out.add(done);
            }
            ObjectNode completed = event("response.completed");
            completed.set("response", response(id, created, model, "completed", output, ResponsesApi.usage(promptTokens, c)));
            completed.set("timings", OpenAiFormat.timings(c));
            out.add(completed);
            return out;
        }

        @Override
        public ObjectNode error(ObjectNode body) {
            ObjectNode e = event("error");
            e.put("code", body.path("error").path("type").asText("server_error"));
            e.put("message", body.path("error").path("message").asText(""));
            return e;
        }
    }
}
