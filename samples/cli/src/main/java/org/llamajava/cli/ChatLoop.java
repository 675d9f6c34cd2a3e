package org.llamajava.cli;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.llamajava.AbortSignal;
import org.llamajava.Completion;
import org.llamajava.ContextOverflowException;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.Sampler;
import org.llamajava.chat.ChatReply;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatStreamListener;
import org.llamajava.chat.ToolCall;
import org.llamajava.multimodal.Media;

/**
 * One chat: the read-reply loop and the slash commands ({@code /reset}, {@code /save FILE},
 * {@code /load FILE}, {@code /image PATH}, {@code /exit}). Replies go to {@code out}; everything else to {@code err}.
 */
final class ChatLoop {
    /** The slash commands, for messages. */
    static final String COMMANDS = "/reset, /save FILE, /load FILE, /image PATH (with --mmproj), /exit";

    private final ChatSession chat;
    private final Sampler sampler;
    private final SamplingOptions sampling;
    /** Through llama.cpp's chat API (tools, reasoning): a sampler per turn with the format's grammar. */
    private final boolean rich;
    private final int maxTokens;
    private final boolean interactive;
    private final PrintStream out;
    private final PrintStream err;
    /** Images (or audio) attached by /image for the next message. */
    private final List<Media> pending = new ArrayList<>();
    /** The reply being generated, for Ctrl-C; null between replies. */
    private final AtomicReference<AbortSignal> current = new AtomicReference<>();

    ChatLoop(ChatSession chat, Sampler sampler, SamplingOptions sampling, int maxTokens, boolean rich,
            boolean interactive, PrintStream out, PrintStream err) {
        this.chat = chat;
        this.sampler = sampler;
        this.sampling = sampling;
        this.rich = rich;
        this.maxTokens = maxTokens;
        this.interactive = interactive;
        this.out = out;
        this.err = err;
    }

    /**
     * Stops the reply being generated, if any (what Ctrl-C does on a terminal).
     *
     * @return whether a reply was being generated
     */
    boolean interrupt() {
        AbortSignal a = current.get();
        if (a != null) {
            a.abort();
            return true;
        }
        return false;
    }

    /** Reads and answers lines until the input ends or {@code /exit}; returns the exit status. */
    int loop(LineSource in) {
        while (true) {
            String line;
            try {
                line = in.next();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read stdin: " + e.getMessage(), e);
            }
            if (line == null) {
                if (interactive) {
                    err.println();
                }
                return 0;
            }
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            if (text.startsWith("/")) {
                if (!command(text)) {
                    return 0;
                }
            } else {
                reply(text);
            }
        }
    }

    /** A message on one line. */
    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** Runs a slash command; false for {@code /exit}. */
    private boolean command(String text) {
        String[] parts = text.split("\\s+", 2);
        String name = parts[0];
        String arg = parts.length < 2 ? "" : parts[1].strip();
        switch (name) {
            case "/exit":
                return false;
            case "/image":
            case "/audio":
                if (chat.projector() == null) {
                    err.println("error: " + name + " needs the model's projector: start the chat with --mmproj FILE");
                    return true;
                }
                if (arg.isEmpty()) {
                    err.println("error: " + name + " needs a PATH");
                    return true;
                }
                try {
                    Media media = Media.file(Path.of(arg));
                    int tokens = chat.projector().countTokens(media);
                    pending.add(media);
                    err.println(arg + " attached (" + tokens + " tokens); it goes with your next message");
                } catch (RuntimeException e) {
                    err.println("error: " + oneLine(e));
                }
                return true;
            case "/reset":
                chat.reset();
                err.println(chat.messages().isEmpty() ? "conversation reset" : "conversation reset (system prompt kept)");
                return true;
            case "/save":
            case "/load":
                if (arg.isEmpty()) {
                    err.println("error: " + name + " needs a FILE");
                    return true;
                }
                try {
                    Path file = Path.of(arg);
                    if (name.equals("/load") && !Files.isRegularFile(file)) {
                        err.println("error: cannot load " + arg + ": "
                                + (Files.exists(file) ? "not a regular file" : "no such file"));
                        return true;
                    }
                    if (name.equals("/save")) {
                        chat.save(file);
                        err.println("saved to " + arg);
                    } else {
                        chat.load(file);
                        err.println("loaded " + arg + " (" + chat.messages().size() + " messages)");
                    }
                } catch (RuntimeException e) {
                    err.println("error: " + oneLine(e));
                }
                return true;
            default:
                err.println("error: unknown command " + name + "; commands: " + COMMANDS);
                return true;
        }
    }

    /**
     * One turn: streams the reply to stdout without leading or trailing whitespace, then an
     * empty line. A failing turn ends a non-interactive chat with an error (so a script never
     * waits for a reply that will not come); on a terminal it is reported and the chat goes on.
     */
    private void reply(String text) {
        ReplyPrinter printer = new ReplyPrinter(out);
        AbortSignal abort = new AbortSignal();
        GenerateOptions options = GenerateOptions.builder().maxTokens(maxTokens).onText(printer)
                .abortSignal(interactive ? abort : null).build();
        Completion c;
        current.set(abort);
        try {
            if (rich) {
                c = richReply(text, printer, abort);
            } else if (sampling.grammar() != null) {
                // a grammar constrains each reply from its start: a fresh grammar per turn
                try (Sampler perTurn = sampling.sampler(chat.sequence().context().model())) {
                    c = chat.send(text, perTurn, options);
                }
            } else if (!pending.isEmpty()) {
                List<Media> media = List.copyOf(pending);
                pending.clear();
                c = chat.send(text, media, sampler, options);
            } else {
                c = chat.send(text, sampler, options);
            }
        } catch (RuntimeException e) {
            if (printer.started()) {
                out.println();
            }
            RuntimeException failure = e instanceof ContextOverflowException
                    ? new IllegalStateException("the conversation no longer fits in the context of "
                            + chat.sequence().context().contextSize() + " tokens; /reset starts over, -c sets"
                            + " the context size", e)
                    : e;
            if (!interactive) {
                throw failure;
            }
            err.println("error: " + oneLine(failure) + (failure == e ? " (/reset starts over)" : ""));
            return;
        } finally {
            current.set(null);
        }
        out.print("\n\n");
        out.flush();
        if (interactive && c.finishReason() == FinishReason.MAX_TOKENS && maxTokens > 0) {
            err.println("(reply cut at " + maxTokens + " tokens; -n sets the limit)");
        } else if (c.finishReason() == FinishReason.CANCELLED) {
            err.println("(interrupted)");
        }
    }

    /**
     * A turn through llama.cpp's chat API: content streams to stdout, reasoning to stderr, and
     * each tool call is printed as one JSON line ({@code {"name", "arguments", "id"}}) on stdout
     * after the content.
     */
    private Completion richReply(String text, ReplyPrinter printer, AbortSignal abort) {
        GenerateOptions options = GenerateOptions.builder().maxTokens(maxTokens)
                .abortSignal(interactive ? abort : null).build();
        List<Media> media = List.copyOf(pending);
        pending.clear();
        ChatReply r = chat.send(text, media, sampling.samplerSettings(), options, new ChatStreamListener() {
            @Override
            public void onContent(String delta) {
                printer.accept(delta);
            }

            @Override
            public void onReasoning(String delta) {
                err.print(delta);
                err.flush();
            }

            @Override
            public void onToolCall(ToolCall call) {
                if (printer.started()) {
                    out.println();
                }
                ObjectNode line = JsonMapper.builder().build().createObjectNode();
                line.put("name", call.name());
                try {
                    line.set("arguments", call.argumentsJson());
                } catch (IllegalArgumentException e) {
                    line.put("arguments", call.arguments());
                }
                line.put("id", call.id());
                out.println(line);
                out.flush();
            }
        });
        return r.completion();
    }
}
