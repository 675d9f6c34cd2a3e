package org.llamajava.chat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llamajava.Completion;
import org.llamajava.ContextOverflowException;
import org.llamajava.GenerateOptions;
import org.llamajava.LlamaException;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.grammar.Grammar;
import org.llamajava.internal.StateFile;
import org.llamajava.internal.StateFileException;

/**
 * A conversation over a {@link Sequence}: messages rendered with a {@link ChatTemplate}. Each
 * turn re-renders the whole history, and the sequence evaluates only the tokens past what it
 * already holds, so a turn costs only its new tokens.
 *
 * <pre>{@code
 * try (Context ctx = model.createContext(); Sampler s = Sampler.greedy()) {
 *     ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.of(model), "You are terse.");
 *     System.out.println(chat.send("Hi!", s, GenerateOptions.maxTokens(64)).text());
 *     System.out.println(chat.send("And again?", s, GenerateOptions.maxTokens(64)).text());
 * }
 * }</pre>
 */
public final class ChatSession {
    /** The kind of this class's files in llama-java's state-file format. */
    private static final String STATE_KIND = "chat";

    private final Sequence sequence;
    private final ChatTemplate template;
    private final List<ChatMessage> messages = new ArrayList<>();
    private ChatOptions options = ChatOptions.DEFAULT;
    private org.llamajava.multimodal.Projector projector;
    private int toolCallIds;

    /** A session with no system prompt. */
    public ChatSession(Sequence sequence, ChatTemplate template) {
        this(sequence, template, null);
    }

    /** A session that starts with this system prompt (null for none). */
    public ChatSession(Sequence sequence, ChatTemplate template, String systemPrompt) {
        if (sequence == null || template == null) {
            throw new IllegalArgumentException("sequence and template are required");
        }
        this.sequence = sequence;
        this.template = template;
        if (systemPrompt != null) {
            messages.add(ChatMessage.system(systemPrompt));
        }
    }

    /** The options of the turns of {@link #respond} (tools, tool choice, reasoning, reply schema). */
    public ChatOptions options() {
        return options;
    }

    /** Sets the options for the following turns of {@link #respond}. */
    public void setOptions(ChatOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options are required (e.g. ChatOptions.DEFAULT)");
        }
        this.options = options;
    }

    /** Appends a message to the history (e.g. a user message before {@link #respond}). */
    public void addMessage(ChatMessage message) {
        if (message == null) {
            throw new IllegalArgumentException("message is null");
        }
        messages.add(message);
    }

    /** Appends the result of a tool call the model made; then {@link #respond} lets it continue. */
    public void addToolResult(ToolCall call, String result) {
        addMessage(ChatMessage.toolResult(call, result));
    }

    /**
     * Adds a user message and generates the reply with the session's {@link #options()}: see
     * {@link #respond(Sampler.Builder, GenerateOptions, ChatStreamListener)}.
     */
    public ChatReply send(String userText, Sampler.Builder sampling, GenerateOptions generate,
                          ChatStreamListener listener) {
        return send(userText, List.of(), sampling, generate, listener);
    }

    /**
     * {@link #send(String, Sampler.Builder, GenerateOptions, ChatStreamListener)} with images or
     * audio in the user message ({@link ChatMessage#user(String, List)}), evaluated through the
     * projector ({@link #setProjector}).
     *
     * @throws IllegalStateException if there are media and no projector
     */
    public ChatReply send(String userText, List<org.llamajava.multimodal.Media> media, Sampler.Builder sampling,
                          GenerateOptions generate, ChatStreamListener listener) {
        if (media == null) {
            throw new IllegalArgumentException("media is null; use List.of() for none");
        }
        if (projector == null && !media.isEmpty()) {
            throw new IllegalStateException("this chat has no projector for images or audio: call setProjector first");
        }
        messages.add(media.isEmpty() ? ChatMessage.user(userText) : ChatMessage.user(userText, media));
        try {
            return respond(sampling, generate, listener);
        } catch (ContextOverflowException e) {
            throw e;
        } catch (RuntimeException e) {
            messages.remove(messages.size() - 1);
            throw e;
        }
    }

    /**
     * Generates the assistant's next reply to the history as it stands (after a user message, or
     * after tool results), through llama.cpp's chat API with the session's {@link #options()}:
     * the template renders tools and reasoning, the format's grammar (lazy for
     * {@link ToolChoice#AUTO}, forced for {@link ToolChoice#REQUIRED}) is added to a copy of
     * {@code sampling}, and the output is parsed into content, reasoning and tool calls. The reply
     * is added to the history; tool calls without an id get one. As with {@link #send(String,
     * Sampler, GenerateOptions)}, only the tokens past what the sequence holds are evaluated.
     *
     * <p>Complete output that does not match the format (possible without a grammar) is kept as
     * plain content.
     *
     * @param listener receives content and reasoning deltas and tool calls as they come; may be null
     */
    public ChatReply respond(Sampler.Builder sampling, GenerateOptions generate, ChatStreamListener listener) {
        if (sampling == null || generate == null) {
            throw new IllegalArgumentException("sampling and generate options are required");
        }
        ChatFormat format = template.apply(messages, options, true);
        Sampler.Builder b = sampling.copy();
        Grammar g = format.grammar();
        if (g != null) {
            b.grammar(g);
        }
        if (options.reasoningBudget() >= 0 && options.enableThinking() && format.supportsThinking()
                && !format.thinkingStartTag().isEmpty() && !format.thinkingEndTags().isEmpty()) {
            b.reasoningBudget(format.reasoningBudget(options.reasoningBudget(), options.reasoningBudgetMessage()));
        }
        List<String> stops = new ArrayList<>(generate.stop());
        format.additionalStops().stream().filter(st -> !st.isEmpty() && !stops.contains(st)).forEach(stops::add);
        try (Sampler sampler = b.build(sequence.context().model()); ChatParser parser = format.parser()) {
            ChatReplyStream stream = new ChatReplyStream(parser, listener);
            GenerateOptions go = GenerateOptions.builder().maxTokens(generate.maxTokens()).stop(stops)
                    .onText(text -> {
                        stream.push(text);
                        if (generate.onText() != null) {
                            generate.onText().accept(text);
                        }
                    })
                    .onToken(generate.onToken()).logprobs(generate.logprobs()).abortSignal(generate.abortSignal())
                    .build();
            Completion c;
            try {
                c = generate(format.prompt(), sampler, go);
            } catch (ContextOverflowException e) {
                if (e.partial() != null) {
                    messages.add(ChatMessage.assistant(e.partial().text()));
                }
                throw e;
            }
            ChatMessage reply = withIds(stream.finish(c.text()));
            messages.add(reply);
            if (listener != null) {
                reply.toolCalls().forEach(listener::onToolCall);
            }
            return new ChatReply(reply, c);
        }
    }

    /** Gives tool calls without an id one (9 letters and digits, as some templates require). */
    private ChatMessage withIds(ChatMessage m) {
        if (m.toolCalls().stream().allMatch(c -> !c.id().isEmpty())) {
            return m;
        }
        List<ToolCall> calls = new ArrayList<>();
        for (ToolCall c : m.toolCalls()) {
            String id = c.id();
            if (id.isEmpty()) {
                String n = Integer.toString(++toolCallIds, 36);
                id = "call" + "0".repeat(Math.max(0, 5 - n.length())) + n;
            }
            calls.add(new ToolCall(c.name(), c.arguments(), id));
        }
        return new ChatMessage(m.role(), m.content(), m.reasoningContent(), calls, m.toolName(), m.toolCallId());
    }

    /** The sequence holding this conversation's KV cache. */
    public Sequence sequence() {
        return sequence;
    }

    public ChatTemplate template() {
        return template;
    }

    /** A copy of the messages so far. */
    public List<ChatMessage> messages() {
        return List.copyOf(messages);
    }

    /**
     * Replaces the history (e.g. after editing a message). The next turn reuses the KV cache up to
     * the first changed token.
     */
    public void setMessages(List<ChatMessage> history) {
        messages.clear();
        messages.addAll(history);
    }

    /** Forgets every message but a leading system prompt. */
    public void reset() {
        messages.removeIf(m -> !(m == messages.get(0) && m.role().equals(ChatMessage.SYSTEM)));
        sequence.clear();
    }

    /** The prompt the next turn evaluates for this history, ending with the assistant's turn. */
    public String renderPrompt() {
        return template.render(messages, true);
    }

    /**
     * Adds a user message, generates the assistant's reply (stopping at end of turn) and adds it
     * to the history. If the context fills up (with {@link OverflowPolicy#fail()}), the turn and
     * the partial reply stay in the history and {@link ContextOverflowException} is thrown; other
     * failures leave the history as it was.
     */
    public Completion send(String userText, Sampler sampler, GenerateOptions options) {
        return send(ChatMessage.user(userText), sampler, options);
    }

    /**
     * Lets this chat's messages carry images (and audio): their media are evaluated through
     * {@code projector} (loaded for this chat's model), and the sequence keeps them in its cache
     * like text, so that a later turn evaluates only what follows. Null removes it (then a chat
     * with media cannot continue).
     */
    public void setProjector(org.llamajava.multimodal.Projector projector) {
        if (projector != null && projector.model() != sequence.context().model()) {
            throw new IllegalArgumentException("the projector was loaded for another model than this chat's");
        }
        this.projector = projector;
    }

    /** The projector set by {@link #setProjector}, or null. */
    public org.llamajava.multimodal.Projector projector() {
        return projector;
    }

    /**
     * Sends a user message with images or audio ({@link ChatMessage#user(String, List)}) and
     * generates the reply, as {@link #send(String, Sampler, GenerateOptions)} does. Its
     * {@link Completion#mediaTokens()} counts the prompt's media positions.
     *
     * @throws IllegalStateException if no projector is set
     */
    public Completion send(String userText, List<org.llamajava.multimodal.Media> media, Sampler sampler,
                           GenerateOptions options) {
        if (projector == null && media != null && !media.isEmpty()) {
            throw new IllegalStateException("this chat has no projector for images or audio: call setProjector first");
        }
        return send(ChatMessage.user(userText, media == null ? List.of() : media), sampler, options);
    }

    private Completion send(ChatMessage user, Sampler sampler, GenerateOptions options) {
        messages.add(user);
        try {
            Completion c = generate(renderPrompt(), sampler, options);
            messages.add(ChatMessage.assistant(c.text()));
            return c;
        } catch (ContextOverflowException e) {
            if (e.partial() != null) {
                // the reply filled the context: keep the turn, with what was generated
                messages.add(ChatMessage.assistant(e.partial().text()));
            } else {
                messages.remove(messages.size() - 1);
            }
            throw e;
        } catch (RuntimeException e) {
            messages.remove(messages.size() - 1);
            throw e;
        }
    }

    /** Evaluates the rendered prompt (through the projector when set) and generates. */
    private Completion generate(String prompt, Sampler sampler, GenerateOptions options) {
        List<org.llamajava.multimodal.Media> media = new ArrayList<>();
        messages.forEach(m -> media.addAll(m.media()));
        if (projector == null) {
            if (!media.isEmpty()) {
                throw new IllegalStateException("this chat's messages carry " + media.size()
                        + " images or audio clips but it has no projector: call setProjector first");
            }
            return sequence.generate(tokens(prompt), sampler, options);
        }
        return projector.generate(sequence, prompt, media, sampler, options);
    }

    int[] tokens(String prompt) {
        return ChatTemplate.promptTokens(prompt, sequence.context().model().vocabulary());
    }

    /**
     * Saves the messages and the sequence's tokens and KV state to one file, in llama-java's
     * state-file format (kind {@code chat}: a {@code messages} section, and a {@code sequence}
     * section holding what {@link Sequence#saveState()} returns).
     */
    public void save(Path file) {
        if (messages.stream().anyMatch(ChatMessage::hasMedia)) {
            throw new UnsupportedOperationException("saving a chat that holds images or audio is not supported yet:"
                    + " reset() it, or save before sending media");
        }
        byte[] text = StateFile.section(out -> {
            out.writeInt(messages.size());
            for (ChatMessage m : messages) {
                writeString(out, m.role());
                writeString(out, m.content());
            }
        });
        Map<String, byte[]> sections = new LinkedHashMap<>();
        sections.put("messages", text);
        // the whole messages (reasoning, tool calls, tool results) as OpenAI-style JSON
        com.fasterxml.jackson.databind.node.ArrayNode json = org.llamajava.internal.Json.MAPPER.createArrayNode();
        messages.forEach(m -> json.add(m.toJson()));
        sections.put("messages.json", org.llamajava.internal.Json.write(json).getBytes(StandardCharsets.UTF_8));
        sections.put("sequence", sequence.saveState());
        byte[] all;
        try {
            all = StateFile.write(STATE_KIND, sequence.context().model().fingerprint(), sections);
        } catch (StateFileException e) {
            throw new LlamaException(e.getMessage(), e);
        }
        try {
            Files.write(file, all);
        } catch (IOException e) {
            throw new LlamaException("could not save chat to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Restores messages and KV state saved by {@link #save}. */
    public void load(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new LlamaException("no such chat file: " + file.toAbsolutePath(), e);
        } catch (IOException e) {
            throw new LlamaException("could not read chat " + file + ": " + e.getMessage(), e);
        }
        StateFile state;
        try {
            state = StateFile.read(all, STATE_KIND, file.toString());
        } catch (StateFileException e) {
            throw new LlamaException(e.getMessage(), e);
        }
        List<ChatMessage> loaded = new ArrayList<>();
        try (DataInputStream in = state.open("messages")) {
            int n = in.readInt();
            if (n < 0 || n > 1_000_000) {
                throw new IOException("bad message count " + n);
            }
            for (int i = 0; i < n; i++) {
                loaded.add(new ChatMessage(readString(in), readString(in)));
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new LlamaException("corrupt or truncated chat file " + file + ": " + e.getMessage(), e);
        } catch (StateFileException e) {
            throw new LlamaException(e.getMessage(), e);
        }
        if (state.has("messages.json")) {
            try {
                loaded = new ArrayList<>();
                for (com.fasterxml.jackson.databind.JsonNode m : org.llamajava.internal.Json.parse(
                        new String(state.section("messages.json"), StandardCharsets.UTF_8), "the chat's messages")) {
                    ChatMessage parsed = ChatMessage.fromParsed(m);
                    loaded.add(new ChatMessage(m.path("role").asText(), parsed.content(), parsed.reasoningContent(),
                            fromJsonCalls(m), m.path("name").asText(""), m.path("tool_call_id").asText("")));
                }
            } catch (IllegalArgumentException e) {
                throw new LlamaException("corrupt chat file " + file + ": " + e.getMessage(), e);
            }
        }
        try {
            sequence.loadState(state.section("sequence"));
        } catch (LlamaException | StateFileException e) {
            throw new LlamaException("chat file " + file + ": " + e.getMessage(), e);
        }
        setMessages(loaded);
    }

    private static List<ToolCall> fromJsonCalls(com.fasterxml.jackson.databind.JsonNode m) {
        List<ToolCall> calls = new ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode c : m.path("tool_calls")) {
            calls.add(new ToolCall(c.path("function").path("name").asText(), c.path("function").path("arguments").asText(),
                    c.path("id").asText("")));
        }
        return calls;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > (1 << 28)) {
            throw new IOException("bad string length " + n);
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("truncated");
        }
        return new String(b, StandardCharsets.UTF_8);
    }
}
