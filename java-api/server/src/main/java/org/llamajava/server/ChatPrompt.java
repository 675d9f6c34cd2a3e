package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.llamajava.LlamaException;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatFormat;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatOptions;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.chat.Tool;
import org.llamajava.chat.ToolCall;
import org.llamajava.chat.ToolChoice;
import org.llamajava.grammar.Grammar;
import org.llamajava.grammar.JsonSchema;
import org.llamajava.multimodal.Media;
import org.llamajava.multimodal.Projector;

/**
 * A chat request made ready to generate: its messages (with tool calls and tool results), its
 * {@code tools}, {@code tool_choice} and {@code response_format} go through llama.cpp's chat API
 * ({@link ChatTemplate#apply}) as llama-server does, which renders the prompt and gives the
 * grammar (a forced or lazy tool call, or the JSON schema), extra stop strings, and the format
 * replies are parsed with into content, reasoning and tool calls. A built-in template (no Jinja)
 * renders plain messages only; a {@code response_format} still applies there, as a grammar.
 *
 * @param tokens  the prompt's tokens
 * @param grammar what sampling must follow, or null
 * @param stops   stop strings the format adds
 * @param format  the reply's format, to parse it with; null for plain text
 * @param text    the rendered prompt, with a media marker per image
 * @param media   the images of the messages ({@code image_url} parts with {@code data:} URLs), in order
 */
record ChatPrompt(int[] tokens, Grammar grammar, List<String> stops, ChatFormat format, String text, List<Media> media) {
    /** The most bytes of one decoded {@code data:} URL image. */
    static final int MAX_IMAGE_BYTES = 16 << 20;
    static final int MAX_MESSAGES = 4096;
    static final int MAX_TOOLS = 128;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private static final JsonSchema ANY_OBJECT = JsonSchema.of("{\"type\": \"object\"}");

    /** Reads the request's messages, tools, tool choice and response format, and renders the prompt. */
    static ChatPrompt prepare(JsonBody b, ChatTemplate template, Vocabulary vocab) {
        return prepare(b, template, vocab, false);
    }

    /** {@link #prepare(JsonBody, ChatTemplate, Vocabulary)}; {@code media}: the server has a projector for images. */
    static ChatPrompt prepare(JsonBody b, ChatTemplate template, Vocabulary vocab, boolean media) {
        return prepare(b, template, vocab, media, ChatOptions.DEFAULT, true);
    }

    /**
     * {@link #prepare(JsonBody, ChatTemplate, Vocabulary, boolean)} over the server's chat defaults
     * ({@code --reasoning}, {@code --chat-template-kwargs}), with or without the assistant's turn
     * header at the end ({@code /apply-template}'s {@code add_generation_prompt}).
     */
    static ChatPrompt prepare(JsonBody b, ChatTemplate template, Vocabulary vocab, boolean media, ChatOptions defaults,
                              boolean addGenerationPrompt) {
        return prepare(b, template, vocab, media, defaults, addGenerationPrompt, false);
    }

    /**
     * {@link #prepare(JsonBody, ChatTemplate, Vocabulary, boolean, ChatOptions, boolean)};
     * {@code allowEmpty}: an empty {@code messages} array renders as it is (Anthropic's API, as
     * llama-server takes it), instead of a 400.
     */
    static ChatPrompt prepare(JsonBody b, ChatTemplate template, Vocabulary vocab, boolean media, ChatOptions defaults,
                              boolean addGenerationPrompt, boolean allowEmpty) {
        return prepare(b, template, vocab, media, defaults, addGenerationPrompt, allowEmpty, true);
    }

    /**
     * {@link #prepare(JsonBody, ChatTemplate, Vocabulary, boolean, ChatOptions, boolean, boolean)};
     * {@code jinja} false is llama-server's {@code --no-jinja}: as its chat path without Jinja, a
     * response schema in a request without tools constrains the reply from its first token with the
     * schema's own grammar (not the template's, which may allow whitespace, a code fence or
     * thinking before it).
     */
    static ChatPrompt prepare(JsonBody b, ChatTemplate template, Vocabulary vocab, boolean media, ChatOptions defaults,
                              boolean addGenerationPrompt, boolean allowEmpty, boolean jinja) {
        List<ChatMessage> messages = messages(b, media, allowEmpty);
        // llama-server's assistant prefill: a chat ending with an assistant message is continued from it
        // (continue_final_message says so explicitly, as vLLM and transformers do)
        boolean continueFinal = b.bool("continue_final_message", false);
        if (continueFinal && b.bool("add_generation_prompt", false)) {
            throw ApiException.invalid("continue_final_message", "give 'add_generation_prompt' or"
                    + " 'continue_final_message', not both: one ends the prompt with a new assistant turn, the other"
                    + " continues the last message");
        }
        int n = messages.size();
        String prefill = null;
        if (n > 0 && messages.get(n - 1).role().equals(ChatMessage.ASSISTANT) && (addGenerationPrompt || continueFinal)) {
            if (n > 1 && messages.get(n - 2).role().equals(ChatMessage.ASSISTANT)) {
                throw ApiException.invalid("messages", "cannot have 2 or more assistant messages at the end of the"
                        + " list: the last one is continued, so the one before it has no reply");
            }
            ChatMessage last = messages.get(n - 1);
            if (!last.hasToolCalls()) {
                prefill = prefillText(b.get("messages").get(n - 1).get("content"), last.content());
                messages = messages.subList(0, n - 1);
                addGenerationPrompt = true;
            }
        }
        List<Media> images = new ArrayList<>();
        messages.forEach(m -> images.addAll(m.media()));
        List<Tool> tools = tools(b);
        ToolChoice choice = toolChoice(b, tools);
        JsonSchema schema = responseFormat(b);
        Grammar requested = b.has("grammar") ? SamplingParams.grammar(b) : null; // llama-server's GBNF field
        if (requested != null && schema != null) {
            throw ApiException.invalid("grammar", "give 'grammar' or a JSON schema ('response_format', 'json_schema'),"
                    + " not both");
        }
        boolean toolTurns = messages.stream().anyMatch(m -> m.hasToolCalls() || m.role().equals(ChatMessage.TOOL));
        if (!template.supportsChatApi()) { // core's one rule: a built-in template other than chatml renders plain chats
            if ((!tools.isEmpty() && choice != ToolChoice.NONE) || toolTurns) {
                throw ApiException.invalid("tools", "this server's chat template is llama.cpp's built-in " + template
                        + ", which renders plain chats only (llama.cpp's chat API knows no built-in template but chatml):"
                        + " start the server with --chat-template chatml, the model's own template or"
                        + " --chat-template-file");
            }
            String prompt;
            try {
                prompt = template.render(messages, addGenerationPrompt);
            } catch (LlamaException e) {
                throw ApiException.invalid("messages", "the chat template could not render these messages: "
                        + e.getMessage());
            }
            if (prefill != null) {
                prompt += prefill;
            }
            return new ChatPrompt(images.isEmpty() ? ChatTemplate.promptTokens(prompt, vocab) : new int[0],
                    requested != null ? requested : schema == null ? null : schema.toGrammar(), List.of(), null, prompt,
                    images);
        }
        ChatOptions options;
        try {
            options = defaults.toBuilder().tools(tools).toolChoice(choice)
                    .parallelToolCalls(b.bool("parallel_tool_calls", false)).jsonSchema(schema).build();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("tool_choice", e.getMessage());
        }
        ChatFormat format;
        try {
            format = template.apply(messages, options, addGenerationPrompt);
        } catch (LlamaException | IllegalArgumentException e) {
            throw ApiException.invalid("messages", "the chat template could not render this request: " + e.getMessage());
        }
        List<String> stops = format.additionalStops().stream().filter(s -> !s.isEmpty()).toList();
        Grammar grammar;
        try {
            grammar = requested != null && format.grammar() == null ? requested : format.grammar();
            if (!jinja && schema != null && tools.isEmpty()) {
                grammar = schema.toGrammar(); // llama-server's chat path without Jinja: the schema's grammar alone
            }
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("tools", "the tools' or response format's grammar is not usable: " + e.getMessage());
        }
        String prompt = prefill == null ? format.prompt() : format.prompt() + prefill;
        return new ChatPrompt(images.isEmpty() ? ChatTemplate.promptTokens(prompt, vocab) : new int[0], grammar,
                stops, format, prompt, images);
    }

    /** The request's messages (the {@code developer} role read as {@code system}). */
    static List<ChatMessage> messages(JsonBody b) {
        return messages(b, false);
    }

    /** The request's messages; {@code media}: {@code image_url} parts are read (else refused). */
    static List<ChatMessage> messages(JsonBody b, boolean media) {
        return messages(b, media, false);
    }

    private static List<ChatMessage> messages(JsonBody b, boolean media, boolean allowEmpty) {
        JsonNode v = b.get("messages");
        if (v == null) {
            throw ApiException.invalid("messages", "'messages' is required: an array of {\"role\", \"content\"} objects");
        }
        if (!v.isArray() || (v.isEmpty() && !allowEmpty)) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array, not " + JsonBody.kind(v));
        }
        if (v.size() > MAX_MESSAGES) {
            throw ApiException.invalid("messages", "'messages' has " + v.size() + " items; at most " + MAX_MESSAGES);
        }
        List<ChatMessage> out = new ArrayList<>(v.size());
        Map<String, String> callNames = new HashMap<>();
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
            List<Media> images = new ArrayList<>();
            String content = content(at, m.get("content"), media ? images : null);
            List<ToolCall> calls = r.equals(ChatMessage.ASSISTANT) ? toolCalls(at, m.get("tool_calls")) : List.of();
            calls.forEach(c -> callNames.put(c.id(), c.name()));
            String reasoning = text(m, "reasoning_content");
            String callId = r.equals(ChatMessage.TOOL) ? text(m, "tool_call_id") : "";
            String toolName = r.equals(ChatMessage.TOOL) ? callNames.getOrDefault(callId, text(m, "name")) : "";
            out.add(new ChatMessage(r, content, reasoning, calls, toolName, callId, images));
        }
        return out;
    }

    private static String text(JsonNode m, String field) {
        JsonNode v = m.get(field);
        return v != null && v.isTextual() ? v.textValue() : "";
    }

    private static String content(String at, JsonNode c, List<Media> images) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (!c.isArray()) {
            throw JsonBody.wrongType(at + ".content", "a string or an array of text parts", c);
        }
        // llama-server's join: text parts on lines of their own, no line break next to an image's marker
        StringBuilder sb = new StringBuilder();
        boolean afterMedia = false;
        for (JsonNode part : c) {
            JsonNode type = part.get("type");
            if (type != null && "image_url".equals(type.asText())) {
                sb.append(image(at, part, images));
                afterMedia = true;
                continue;
            }
            JsonNode text = part.get("text");
            if (type == null || !"text".equals(type.asText()) || text == null || !text.isTextual()) {
                throw ApiException.invalid(at + ".content", "each part of '" + at + ".content' must be {\"type\":"
                        + " \"text\", \"text\": \"...\"} or {\"type\": \"image_url\", \"image_url\": {\"url\":"
                        + " \"data:image/png;base64,...\"}}, not " + part);
            }
            if (!afterMedia && !sb.isEmpty()) {
                sb.append('\n');
            }
            afterMedia = false;
            sb.append(text.textValue());
        }
        return sb.toString();
    }

    /**
     * An assistant prefill's text, as llama-server continues it: a string as it is; text parts
     * joined with blank lines (its {@code render_content}); {@code parsed} otherwise.
     */
    private static String prefillText(JsonNode c, String parsed) {
        if (c == null || !c.isArray()) {
            return parsed;
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            JsonNode text = part.get("text");
            if ("text".equals(part.path("type").asText()) && text != null && text.isTextual()) {
                if (!sb.isEmpty()) {
                    sb.append("\n\n");
                }
                sb.append(text.textValue());
            }
        }
        return sb.toString();
    }

    /**
     * An {@code image_url} part: a {@code data:} URL (base64) decoded into {@code images}; returns
     * the media marker that stands for it in the text. Remote URLs are never fetched.
     */
    private static String image(String at, JsonNode part, List<Media> images) {
        String where = at + ".content";
        if (images == null) {
            throw ApiException.invalid(where, "this server was started without a projector, so it reads no images:"
                    + " start it with the model's projector (serve --mmproj FILE)");
        }
        JsonNode u = part.path("image_url");
        JsonNode url = u.isTextual() ? u : u.get("url");
        if (url == null || !url.isTextual()) {
            throw ApiException.invalid(where, "an image_url part needs {\"image_url\": {\"url\": \"data:...\"}}");
        }
        String s = url.textValue();
        if (!s.regionMatches(true, 0, "data:", 0, 5)) {
            throw ApiException.invalid(where, "only data: URLs are accepted for images (e.g."
                    + " data:image/png;base64,...); this server does not fetch remote URLs such as "
                    + (s.length() > 64 ? s.substring(0, 64) + "..." : s));
        }
        int comma = s.indexOf(',');
        if (comma < 0 || !s.substring(0, comma).toLowerCase(java.util.Locale.ROOT).endsWith(";base64")) {
            throw ApiException.invalid(where, "an image data: URL must be base64: data:image/png;base64,...");
        }
        int encoded = s.length() - comma - 1;
        if ((long) encoded * 3 / 4 > MAX_IMAGE_BYTES) {
            throw ApiException.invalid(where, "the image has about " + (long) encoded * 3 / 4 + " bytes; at most "
                    + MAX_IMAGE_BYTES + " are accepted");
        }
        byte[] bytes;
        try {
            bytes = java.util.Base64.getMimeDecoder().decode(s.substring(comma + 1));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(where, "the image data: URL is not valid base64: " + e.getMessage());
        }
        try {
            images.add(Media.bytes(bytes));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(where, e.getMessage());
        }
        return Projector.marker();
    }

    /** An assistant message's {@code tool_calls}: {@code [{"id", "type": "function", "function": {"name", "arguments"}}]}. */
    private static List<ToolCall> toolCalls(String at, JsonNode v) {
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw JsonBody.wrongType(at + ".tool_calls", "an array", v);
        }
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode c : v) {
            JsonNode f = c.get("function");
            if (f == null || !f.isObject() || f.get("name") == null || !f.get("name").isTextual()) {
                throw ApiException.invalid(at + ".tool_calls", "each tool call is {\"id\", \"type\": \"function\","
                        + " \"function\": {\"name\", \"arguments\"}}, not " + c);
            }
            JsonNode args = f.get("arguments");
            String arguments = args == null || args.isNull() ? "{}" : args.isTextual() ? args.textValue() : args.toString();
            calls.add(new ToolCall(f.get("name").textValue(), arguments, text(c, "id")));
        }
        return calls;
    }

    private static List<Tool> tools(JsonBody b) {
        JsonNode v = b.get("tools");
        if (v == null) {
            return List.of();
        }
        if (!v.isArray()) {
            throw JsonBody.wrongType("tools", "an array of {\"type\": \"function\", \"function\": ...}", v);
        }
        if (v.size() > MAX_TOOLS) {
            throw ApiException.invalid("tools", "'tools' has " + v.size() + " items; at most " + MAX_TOOLS);
        }
        try {
            return Tool.listFromJson(v.toString());
        } catch (IllegalArgumentException | LlamaException e) {
            throw ApiException.invalid("tools", e.getMessage());
        }
    }

    /** {@code "auto"}, {@code "none"}, {@code "required"}, or {@code {"type": "function", "function": {"name"}}}. */
    private static ToolChoice toolChoice(JsonBody b, List<Tool> tools) {
        JsonNode v = b.get("tool_choice");
        if (v == null) {
            return ToolChoice.AUTO;
        }
        if (v.isTextual()) {
            return switch (v.textValue()) {
                case "auto" -> ToolChoice.AUTO;
                case "none" -> ToolChoice.NONE;
                case "required" -> {
                    if (tools.isEmpty()) {
                        throw ApiException.invalid("tool_choice", "'tool_choice' \"required\" needs 'tools'");
                    }
                    yield ToolChoice.REQUIRED;
                }
                default -> throw ApiException.invalid("tool_choice", "'tool_choice' must be \"auto\", \"none\","
                        + " \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
            };
        }
        JsonNode name = v.path("function").path("name");
        if (!name.isTextual()) {
            throw JsonBody.wrongType("tool_choice", "\"auto\", \"none\", \"required\" or a named function", v);
        }
        return ToolChoice.named(name.textValue());
    }

    /**
     * {@code {"type": "text"}}, {@code {"type": "json_object"}} (with llama-server's optional
     * {@code "schema"}) or {@code {"type": "json_schema", "json_schema": {"schema"}}}, or
     * llama-server's top-level {@code json_schema}; null for text.
     */
    private static JsonSchema responseFormat(JsonBody b) {
        JsonNode top = b.get("json_schema");
        JsonNode v = b.get("response_format");
        if (v == null) {
            return top == null ? null : schema("json_schema", top);
        }
        JsonNode type = v.get("type");
        if (!v.isObject() || type == null || !type.isTextual()) {
            throw JsonBody.wrongType("response_format", "an object with a 'type'", v);
        }
        switch (type.textValue()) {
            case "text":
                return null;
            case "json_object":
                JsonNode given = v.get("schema");
                return given == null || given.isNull() ? ANY_OBJECT : schema("response_format", given);
            case "json_schema":
                JsonNode s = v.path("json_schema").get("schema");
                if (s == null || !s.isObject()) {
                    throw ApiException.invalid("response_format", "'response_format.json_schema.schema' must be a JSON"
                            + " Schema object");
                }
                return schema("response_format", s);
            default:
                throw ApiException.invalid("response_format", "'response_format.type' must be text, json_object or"
                        + " json_schema, not '" + type.textValue() + "'");
        }
    }

    /**
     * A request's JSON Schema, checked: bounded, and convertible to a grammar (else 400 naming
     * {@code field}). An empty schema ({@code {}}) means any object, as llama-server reads it.
     */
    static JsonSchema schema(String field, JsonNode s) {
        if (!s.isObject()) {
            throw JsonBody.wrongType(field, "a JSON Schema object", s);
        }
        if (s.isEmpty()) {
            return ANY_OBJECT;
        }
        JsonSchema schema;
        try {
            schema = JsonSchema.of(s); // bounded: too many optional properties, too deep, ... are refused here
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(field, e.getMessage());
        }
        try {
            schema.toGrammar();
        } catch (IllegalArgumentException | LlamaException e) {
            throw ApiException.invalid(field, "the JSON schema cannot be turned into a grammar: " + e.getMessage());
        }
        return schema;
    }
}
