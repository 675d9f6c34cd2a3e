package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.llamajava.LlamaException;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatTemplate;

/**
 * A chat request's messages, rendered with the server's {@link ChatTemplate} and tokenized. This
 * is where a request's {@code tools}, {@code tool_choice} and {@code response_format} are read:
 * until tool calling and grammars are in this build, a request that needs them gets 400 instead
 * of a reply that silently ignores them.
 */
final class ChatPrompt {
    static final int MAX_MESSAGES = 4096;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private ChatPrompt() {}

    /** The request's messages (the {@code developer} role read as {@code system}). */
    static List<ChatMessage> messages(JsonBody b) {
        JsonNode v = b.get("messages");
        if (v == null) {
            throw ApiException.invalid("messages", "'messages' is required: an array of {\"role\", \"content\"} objects");
        }
        if (!v.isArray() || v.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array, not " + JsonBody.kind(v));
        }
        if (v.size() > MAX_MESSAGES) {
            throw ApiException.invalid("messages", "'messages' has " + v.size() + " items; at most " + MAX_MESSAGES);
        }
        List<ChatMessage> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = v.get(i);
            if (!m.isObject()) {
                throw JsonBody.wrongType(at, "an object", m);
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.textValue())) {
                throw ApiException.invalid(at + ".role", "'" + at + ".role' must be one of " + ROLES + ", not "
                        + JsonBody.kind(role));
            }
            String r = role.textValue().equals("developer") ? ChatMessage.SYSTEM : role.textValue();
            out.add(new ChatMessage(r, content(at, m.get("content"))));
        }
        return out;
    }

    private static String content(String at, JsonNode c) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (!c.isArray()) {
            throw JsonBody.wrongType(at + ".content", "a string or an array of text parts", c);
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            JsonNode type = part.get("type");
            JsonNode text = part.get("text");
            if (type == null || !"text".equals(type.asText()) || text == null || !text.isTextual()) {
                throw ApiException.invalid(at + ".content", "this server reads text only: each part of '" + at
                        + ".content' must be {\"type\": \"text\", \"text\": \"...\"}, not " + part);
            }
            sb.append(text.textValue());
        }
        return sb.toString();
    }

    /** 400 for {@code tools} (unless {@code tool_choice} is "none") and a JSON {@code response_format}: not in this build yet. */
    static void refuseUnsupported(JsonBody b) {
        JsonNode tools = b.get("tools");
        if (tools != null && (!tools.isArray() || !tools.isEmpty())
                && !"none".equals(b.string("tool_choice", "auto"))) {
            throw ApiException.invalid("tools", "tool calling is not in this server's build yet: send the request"
                    + " without 'tools' (or with \"tool_choice\": \"none\")");
        }
        JsonNode format = b.get("response_format");
        if (format != null) {
            JsonNode type = format.get("type");
            if (!format.isObject() || type == null || !type.isTextual()) {
                throw JsonBody.wrongType("response_format", "an object with a 'type'", format);
            }
            if (!type.textValue().equals("text")) {
                throw ApiException.invalid("response_format", "response_format '" + type.textValue() + "' is not in this"
                        + " server's build yet; only {\"type\": \"text\"}");
            }
        }
    }

    /** Renders the messages for the assistant's reply and tokenizes the prompt as {@code ChatSession} does. */
    static int[] tokens(ChatTemplate template, List<ChatMessage> messages, Vocabulary vocab) {
        String prompt;
        try {
            prompt = template.render(messages, true);
        } catch (LlamaException e) {
            throw ApiException.invalid("messages", "the chat template could not render these messages: " + e.getMessage());
        }
        boolean addBos = vocab.addsBos() && vocab.bos() != Vocabulary.NO_TOKEN
                && !prompt.startsWith(vocab.tokenPiece(vocab.bos()));
        return vocab.tokenize(prompt, addBos, true);
    }
}
