package org.llamajava.chat;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.Llama;
import org.llamajava.LlamaException;
import org.llamajava.Model;
import org.llamajava.Vocabulary;
import org.llamajava.bindings.llama_chat_message;
import org.llamajava.bindings.llama_model;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.llamajava.internal.DeepNative;
import org.llamajava.internal.Json;
import org.llamajava.internal.NativeStrings;

/**
 * Renders chat messages into a prompt.
 *
 * <ul>
 *   <li>{@link #of(Model)}: the model's own Jinja template from its GGUF metadata, through
 *       llama.cpp's common chat API (as llama-server renders it); chatml if it has none;</li>
 *   <li>{@link #jinja}: a Jinja template you give;</li>
 *   <li>{@link #builtin(String)}: one of llama.cpp's built-in templates by name ({@code chatml},
 *       {@code llama3}, {@code phi3}, ..., see {@link #builtinNames()}), without Jinja.</li>
 * </ul>
 */
public final class ChatTemplate {
    private final Model model;
    private final String source;
    private final String builtin;
    private final String bos;
    private final String eos;

    private ChatTemplate(Model model, String source, String builtin, String bos, String eos) {
        Llama.init();
        this.model = model;
        this.source = source;
        this.builtin = builtin;
        this.bos = bos;
        this.eos = eos;
    }

    /** The model's own chat template (chatml if the model has none). */
    public static ChatTemplate of(Model model) {
        model.port().handle();
        return new ChatTemplate(model, null, null, null, null);
    }

    /** A Jinja template rendered with the model's BOS and EOS tokens. */
    public static ChatTemplate jinja(String source, Model model) {
        requireSource(source);
        model.port().handle();
        return new ChatTemplate(model, source, null, null, null);
    }

    /** A Jinja template rendered with the given BOS and EOS texts (no model needed). */
    public static ChatTemplate jinja(String source, String bos, String eos) {
        requireSource(source);
        return new ChatTemplate(null, source, null, bos, eos);
    }

    /** One of llama.cpp's built-in templates, by name. */
    public static ChatTemplate builtin(String name) {
        if (!builtinNames().contains(name)) {
            throw new IllegalArgumentException("unknown built-in chat template '" + name + "'; known: " + builtinNames());
        }
        return new ChatTemplate(null, null, name, null, null);
    }

    /**
     * A built-in template's name, or the path of a Jinja file, or null for the model's own:
     * what the CLI's {@code --chat-template} takes.
     */
    public static ChatTemplate resolve(Model model, String nameOrFile) {
        if (nameOrFile == null) {
            return of(model);
        }
        if (builtinNames().contains(nameOrFile)) {
            return builtin(nameOrFile);
        }
        Path p = checkResolvable(nameOrFile);
        try {
            return jinja(Files.readString(p, StandardCharsets.UTF_8), model);
        } catch (IOException e) {
            throw new LlamaException("cannot read chat template " + p + ": " + e.getMessage(), e);
        }
    }

    /** The built-in template that llama.cpp's chat API also knows, as Jinja: {@value}. */
    public static final String CHATML = "chatml";

    /**
     * Whether {@link #apply} (tools, reasoning, JSON replies: what the chat adapters and
     * {@link ChatSession#respond} use) works with this template: the model's own, a Jinja template,
     * or the built-in {@value #CHATML} (which llama.cpp's chat API renders as its own Jinja chatml).
     * Other built-in templates render plain chats only ({@link #render}).
     */
    public boolean supportsChatApi() {
        return builtin == null || builtin.equals(CHATML);
    }

    private static String noChatApi(String name) {
        return "built-in template '" + name + "' renders plain chats only, not tools, reasoning or JSON replies"
                + " (llama.cpp's chat API knows no built-in template but " + CHATML + "): use " + CHATML
                + ", a Jinja template file, or the model's own template";
    }

    /**
     * The configuration-time check for a front end that needs {@link #apply} (the chat adapters):
     * as {@link #checkResolvable}, and refuses a built-in template other than {@value #CHATML} with
     * the reason, so that a template that is accepted also works for every request.
     *
     * @throws IllegalArgumentException when the name or file is not resolvable, or names such a
     *     built-in template
     */
    public static Path checkResolvableForChatApi(String nameOrFile) {
        Path p = checkResolvable(nameOrFile);
        if (nameOrFile != null && p == null && !nameOrFile.equals(CHATML)) {
            throw new IllegalArgumentException(noChatApi(nameOrFile));
        }
        return p;
    }

    /**
     * Checks, without a model, that {@link #resolve} can resolve this name or file: a built-in
     * template's name (then null) or a regular file (then its path).
     *
     * @throws IllegalArgumentException naming the built-in templates, when it is neither
     */
    public static Path checkResolvable(String nameOrFile) {
        if (nameOrFile == null || builtinNames().contains(nameOrFile)) {
            return null;
        }
        Path p;
        try {
            p = Path.of(nameOrFile);
        } catch (RuntimeException e) {
            p = null;
        }
        if (p == null || !Files.isRegularFile(p)) {
            throw new IllegalArgumentException("'" + nameOrFile + "' is neither a built-in chat template "
                    + builtinNames() + " nor a readable file");
        }
        return p;
    }

    /**
     * Tokenizes a rendered prompt as a chat's prompt is: special tokens parsed, and the model's
     * BOS added unless the template already wrote it.
     */
    public static int[] promptTokens(String prompt, Vocabulary vocab) {
        boolean addBos = vocab.addsBos() && vocab.bos() != Vocabulary.NO_TOKEN
                && !prompt.startsWith(vocab.tokenPiece(vocab.bos()));
        return vocab.tokenize(prompt, addBos, true);
    }

    /** Whether this is one of llama.cpp's built-in templates, which {@link #apply} cannot use (no tools, no reasoning). */
    public boolean isBuiltin() {
        return builtin != null;
    }

    /** The names of llama.cpp's built-in templates. */
    public static List<String> builtinNames() {
        Llama.init();
        int n = llama_chat_builtin_templates((PointerPointer<?>) null, 0);
        List<String> names = new ArrayList<>(n);
        try (PointerPointer<BytePointer> out = new PointerPointer<>(n)) {
            llama_chat_builtin_templates(out, n);
            for (int i = 0; i < n; i++) {
                names.add(out.getString(i, StandardCharsets.UTF_8));
            }
        }
        return names;
    }

    /**
     * Renders the messages into a prompt.
     *
     * @param addAssistant end with the start of the assistant's reply
     * @throws LlamaException if the template fails to render (e.g. malformed Jinja)
     */
    public String render(List<ChatMessage> messages, boolean addAssistant) {
        if (messages == null) {
            throw new IllegalArgumentException("messages is null");
        }
        return builtin != null ? renderBuiltin(messages, addAssistant) : renderJinja(messages, addAssistant);
    }

    /**
     * Renders messages with tools, reasoning and a reply schema through llama.cpp's chat API
     * ({@code common_chat_templates_apply}), which also says how to sample and parse the reply
     * in this template's format.
     *
     * @param addGenerationPrompt end with the start of the assistant's reply
     * @throws IllegalStateException for a built-in template other than {@value #CHATML}, which has
     *     no tool support ({@link #supportsChatApi()})
     * @throws LlamaException if llama.cpp cannot render the request (e.g. a malformed message)
     */
    public ChatFormat apply(List<ChatMessage> messages, ChatOptions options, boolean addGenerationPrompt) {
        if (messages == null || options == null) {
            throw new IllegalArgumentException("messages and options are required (e.g. ChatOptions.DEFAULT)");
        }
        if (!supportsChatApi()) {
            throw new IllegalStateException(noChatApi(builtin));
        }
        ObjectNode req = Json.MAPPER.createObjectNode();
        ArrayNode msgs = req.putArray("messages");
        messages.forEach(m -> msgs.add(m.toJson()));
        List<Tool> tools = options.offeredTools();
        if (!tools.isEmpty()) {
            ArrayNode t = req.putArray("tools");
            tools.forEach(tool -> t.add(tool.toJson()));
            req.put("tool_choice", options.toolChoice().mode());
            req.put("parallel_tool_calls", options.parallelToolCalls());
        }
        req.put("reasoning_format", options.reasoningFormat().llamaName());
        req.put("enable_thinking", options.enableThinking());
        req.put("add_generation_prompt", addGenerationPrompt);
        if (options.jsonSchema() != null) {
            req.put("json_schema", options.jsonSchema().json());
        }
        if (!options.templateKwargs().isEmpty()) {
            ObjectNode kw = req.putObject("chat_template_kwargs");
            options.templateKwargs().forEach((k, v) -> {
                Json.parse(v, "template variable " + k);
                kw.put(k, v);
            });
        }
        if (options.now() != null) {
            req.put("now", options.now().getEpochSecond());
        }
        return new ChatFormat(Json.parse(applyRaw(Json.write(req)), "llama.cpp's chat parameters"),
                options.reasoningFormat());
    }

    /** common_chat_templates_apply on a request in the shim's JSON form; returns its JSON result. */
    String applyRaw(String requestJson) {
        List<BytePointer> held = new ArrayList<>();
        try {
            llama_model m = model == null ? null : model.port().handle();
            // the built-in chatml: llama.cpp's chat API takes the name for its own Jinja chatml
            String text = builtin != null ? CHATML : source;
            BytePointer src = text == null ? null : hold(held, text);
            BytePointer b = bos == null ? null : hold(held, bos);
            BytePointer e = eos == null ? null : hold(held, eos);
            BytePointer req = new BytePointer(requestJson, StandardCharsets.UTF_8);
            held.add(req);
            // the request's tool schemas become grammars natively, recursing with them: on a deep stack
            return DeepNative.call(() -> NativeStrings.shim(error -> llamajava_chat_templates_apply(m, src, b, e, req, error),
                    why -> new LlamaException("llama.cpp's chat API failed: " + why)));
        } finally {
            held.forEach(BytePointer::close);
            Reference.reachabilityFence(model); // not freed by its Cleaner during the native call
        }
    }

    private String renderJinja(List<ChatMessage> messages, boolean addAssistant) {
        int n = messages.size();
        List<BytePointer> held = new ArrayList<>();
        try (PointerPointer<BytePointer> roles = new PointerPointer<>(Math.max(1, n));
             PointerPointer<BytePointer> contents = new PointerPointer<>(Math.max(1, n));
             PointerPointer<BytePointer> error = new PointerPointer<>(1)) {
            for (int i = 0; i < n; i++) {
                roles.put(i, hold(held, messages.get(i).role()));
                contents.put(i, hold(held, messages.get(i).content()));
            }
            llama_model m = model == null ? null : model.port().handle();
            BytePointer src = source == null ? null : hold(held, source);
            BytePointer b = bos == null ? null : hold(held, bos);
            BytePointer e = eos == null ? null : hold(held, eos);
            BytePointer out = llamajava_chat_apply(m, src, b, e, roles, contents, n, addAssistant, error);
            if (out == null || out.isNull()) {
                BytePointer msg = error.get(BytePointer.class, 0);
                String why = msg == null || msg.isNull() ? "unknown error" : msg.getString(StandardCharsets.UTF_8);
                if (msg != null && !msg.isNull()) {
                    llamajava_free(msg);
                }
                throw new LlamaException("chat template failed to render: " + why);
            }
            try {
                return out.getString(StandardCharsets.UTF_8);
            } finally {
                llamajava_free(out);
            }
        } finally {
            held.forEach(BytePointer::close);
            Reference.reachabilityFence(model); // not freed by its Cleaner during the native call
        }
    }

    private String renderBuiltin(List<ChatMessage> messages, boolean addAssistant) {
        int n = messages.size();
        List<BytePointer> held = new ArrayList<>();
        llama_chat_message chat = new llama_chat_message(Math.max(1, n));
        try (BytePointer name = hold(held, builtin)) {
            int total = 0;
            for (int i = 0; i < n; i++) {
                chat.position(i).role(hold(held, messages.get(i).role())).content(hold(held, messages.get(i).content()));
                total += messages.get(i).content().length() * 3 + 64;
            }
            chat.position(0);
            int cap = total + 256;
            while (true) {
                try (BytePointer buf = new BytePointer(cap)) {
                    int len = llama_chat_apply_template(name, chat, n, addAssistant, buf, cap);
                    if (len < 0) {
                        throw new LlamaException("built-in chat template '" + builtin + "' failed to render");
                    }
                    if (len <= cap) {
                        byte[] b = new byte[len];
                        buf.get(b, 0, len);
                        return new String(b, StandardCharsets.UTF_8);
                    }
                    cap = len;
                }
            }
        } finally {
            chat.close();
            held.forEach(BytePointer::close);
        }
    }

    private static BytePointer hold(List<BytePointer> held, String s) {
        BytePointer p = new BytePointer(s.replace("\0", ""), StandardCharsets.UTF_8);
        held.add(p);
        return p;
    }

    private static void requireSource(String source) {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("template source must not be empty");
        }
    }

    @Override
    public String toString() {
        return builtin != null ? "ChatTemplate[builtin " + builtin + "]"
                : source != null ? "ChatTemplate[jinja]" : "ChatTemplate[model's own]";
    }
}
