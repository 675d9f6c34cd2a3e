package org.llamajava.cli;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.llamajava.AbortSignal;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextOverflowException;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.LoadProgressListener;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.Sampler;
import org.llamajava.chat.ChatOptions;
import org.llamajava.chat.ChatReply;
import org.llamajava.chat.ChatStreamListener;
import org.llamajava.chat.ReasoningFormat;
import org.llamajava.chat.Tool;
import org.llamajava.chat.ToolCall;
import org.llamajava.chat.ToolChoice;
import org.llamajava.Sequence;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.multimodal.Media;
import org.llamajava.multimodal.Projector;

/**
 * {@code chat -m MODEL [--system TEXT] [--chat-template NAME_OR_FILE] [sampling flags]}: a
 * conversation read from stdin, one user turn per line.
 *
 * <p>On a terminal it is interactive: a load progress bar, a {@code > } prompt, replies streamed as
 * they are generated, Ctrl-C stops the reply in progress (and quits between replies). Otherwise
 * stdout holds only the replies, each trimmed of surrounding whitespace and followed by one empty
 * line; everything else goes to stderr. Lines starting with {@code /} are commands: {@code /reset},
 * {@code /save FILE}, {@code /load FILE}, {@code /exit}. Empty lines are ignored.
 */
final class ChatCommand implements Command {
    /** {@code -n}'s default: the most tokens per reply. */
    static final int DEFAULT_MAX_TOKENS = 256;

    private static final String COMMANDS = "/reset, /save FILE, /load FILE, /image PATH (with --mmproj), /exit";

    /** Where user lines come from; null at the end of input. */
    @FunctionalInterface
    interface LineSource {
        String next() throws IOException;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        Console console = terminal();
        if (console != null) {
            return run(args, () -> console.readLine("> "), true, out, err);
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        return run(args, in::readLine, false, out, err);
    }

    /** Runs a chat over the given input; {@code interactive} is what a terminal gets. */
    int run(Args args, LineSource in, boolean interactive, PrintStream out, PrintStream err) {
        args.parse(SamplingFlags.with(new String[] {"-m", "--model"}, new String[] {"--system", "-sys",
                "--system-prompt"}, new String[] {"--chat-template"}, new String[] {"--tools"},
                new String[] {"--tool-choice"}, new String[] {"--reasoning-format"}, new String[] {"--reasoning-budget"},
                new String[] {"--reasoning-budget-message"}, new String[] {"--mmproj"}), "--no-mmproj-offload");
        Path modelPath = Path.of(args.require("-m", "MODEL"));
        if (!args.positional().isEmpty()) {
            throw new Args.UsageException("unexpected argument '" + args.positional().get(0) + "'");
        }
        String system = args.get("--system");
        String templateName = args.get("--chat-template");
        SamplingFlags flags = SamplingFlags.read(args, DEFAULT_MAX_TOKENS);
        checkTemplate(templateName);
        ChatOptions chatOptions = chatOptions(args);
        if (chatOptions != null && flags.grammar() != null) {
            throw new Args.UsageException("--tools/--reasoning-format and a grammar flag cannot be combined:"
                    + " the chat format makes its own grammar");
        }

        ModelParams.Builder mp = flags.modelParams();
        String modelName = modelPath.getFileName() == null ? modelPath.toString() : modelPath.getFileName().toString();
        ProgressBar bar = interactive ? new ProgressBar(err, modelName) : null;
        if (bar != null) {
            mp.progress(bar);
        }
        Model loaded;
        try {
            loaded = Model.load(modelPath, mp.build());
        } finally {
            if (bar != null) {
                bar.clear();
            }
        }
        try (Model m = loaded;
             Projector projector = Multimodal.load(args, m);
             Context ctx = m.createContext(flags.contextParams(m));
             Sequence seq = ctx.newSequence();
             Sampler sampler = flags.sampler(m)) {
            ChatTemplate template = ChatTemplate.resolve(m, templateName);
            ChatSession chat = new ChatSession(seq, template, system);
            chat.setProjector(projector);
            if (chatOptions != null) {
                chat.setOptions(chatOptions);
            }
            Session s = new Session(chat, sampler, flags, chatOptions != null, interactive, out, err);
            if (interactive) {
                String which = templateName != null ? "chat template " + templateName
                        : m.chatTemplate() != null ? "the model's chat template"
                        : "chat template chatml (the model has none)";
                err.printf("chat with %s (%s, context %d tokens); commands: %s; Ctrl-D quits%n",
                        modelName, which, ctx.contextSize(), COMMANDS);
                s.installInterruptHandler();
            }
            return s.loop(in);
        }
    }

    /** The console when stdin and stdout are a terminal, else null. */
    private static Console terminal() {
        Console c = System.console();
        if (c == null) {
            return null;
        }
        // Java 22 and later return a console for redirected streams too; isTerminal() tells
        try {
            Object t = Console.class.getMethod("isTerminal").invoke(c);
            return Boolean.TRUE.equals(t) ? c : null;
        } catch (NoSuchMethodException e) {
            return c; // Java 17 to 21: a console exists only on a terminal
        } catch (ReflectiveOperationException | RuntimeException e) {
            return c;
        }
    }

    /** Fails before the model is loaded when the template is neither a built-in name nor a file. */
    /**
     * The chat API options of {@code --tools FILE} (OpenAI-style definitions), {@code --tool-choice}
     * {@code --reasoning-format} and {@code --reasoning-budget N} (with {@code --reasoning-budget-message}),
     * or null if none is given (plain chat).
     */
    private static ChatOptions chatOptions(Args args) {
        String tools = args.get("--tools");
        String choice = args.get("--tool-choice");
        String reasoning = args.get("--reasoning-format");
        String budget = args.get("--reasoning-budget");
        String budgetMessage = args.get("--reasoning-budget-message");
        if (budgetMessage != null && budget == null) {
            throw new Args.UsageException("--reasoning-budget-message needs --reasoning-budget N");
        }
        if (tools == null && choice == null && reasoning == null && budget == null) {
            return null;
        }
        ChatOptions.Builder b = ChatOptions.builder();
        if (tools != null) {
            try {
                b.tools(Tool.listFromJson(java.nio.file.Files.readString(Path.of(tools))));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read --tools file " + tools + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--tools " + tools + ": " + e.getMessage(), e);
            }
        }
        if (choice != null) {
            b.toolChoice(switch (choice) {
                case "auto" -> ToolChoice.AUTO;
                case "none" -> ToolChoice.NONE;
                case "required" -> ToolChoice.REQUIRED;
                default -> throw new Args.UsageException("--tool-choice must be auto, none or required");
            });
        }
        if (reasoning != null) {
            try {
                b.reasoningFormat(ReasoningFormat.of(reasoning));
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException("--reasoning-format: " + e.getMessage());
            }
        }
        if (budget != null) {
            int n;
            try {
                n = Integer.parseInt(budget);
            } catch (NumberFormatException e) {
                throw new Args.UsageException("--reasoning-budget must be a number of tokens (-1: no limit); got '"
                        + budget + "'");
            }
            if (n < -1) {
                throw new Args.UsageException("--reasoning-budget must be -1 (no limit) or at least 0; got " + n);
            }
            b.reasoningBudget(n, budgetMessage);
        }
        return b.build();
    }

    private static void checkTemplate(String nameOrFile) {
        if (nameOrFile == null || ChatTemplate.builtinNames().contains(nameOrFile)) {
            return;
        }
        Path p;
        try {
            p = Path.of(nameOrFile);
        } catch (RuntimeException e) {
            p = null;
        }
        if (p == null || !Files.isRegularFile(p)) {
            throw new IllegalArgumentException("unknown chat template '" + nameOrFile
                    + "': neither a built-in template " + ChatTemplate.builtinNames() + " nor a readable file");
        }
    }

    @Override
    public String usage() {
        return "-m MODEL [--system TEXT] [--chat-template NAME_OR_FILE] [--mmproj FILE] [--tools FILE] [--tool-choice auto|none|required]"
                + " [--reasoning-format none|auto|deepseek|deepseek-legacy] [--reasoning-budget N"
                + " [--reasoning-budget-message TEXT]] " + SamplingFlags.USAGE;
    }

    /** A message on one line. */
    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** One chat: the read-reply loop and the slash commands. */
    private static final class Session {
        private final ChatSession chat;
        private final Sampler sampler;
        private final SamplingFlags flags;
        /** Through llama.cpp's chat API (tools, reasoning): a sampler per turn with the format's grammar. */
        private final boolean rich;
        private final int maxTokens;
        private final boolean interactive;
        private final PrintStream out;
        private final PrintStream err;
        /** Images (or audio) attached by /image for the next message. */
        private final List<Media> pending = new java.util.ArrayList<>();
        /** The reply being generated, for Ctrl-C; null between replies. */
        private final AtomicReference<AbortSignal> current = new AtomicReference<>();

        Session(ChatSession chat, Sampler sampler, SamplingFlags flags, boolean rich, boolean interactive,
                PrintStream out, PrintStream err) {
            this.chat = chat;
            this.sampler = sampler;
            this.flags = flags;
            this.rich = rich;
            this.maxTokens = flags.maxTokens();
            this.interactive = interactive;
            this.out = out;
            this.err = err;
        }

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
                    err.println(chat.messages().isEmpty() ? "conversation reset"
                            : "conversation reset (system prompt kept)");
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
         * empty line. A failing turn ends a non-interactive chat with an error (so a script
         * never waits for a reply that will not come); on a terminal it is reported and the chat
         * goes on.
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
                } else if (flags.grammar() != null) {
                    // a grammar constrains each reply from its start: a fresh grammar per turn
                    try (Sampler perTurn = flags.sampler(chat.sequence().context().model())) {
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
         * each tool call is printed as one JSON line ({@code {"name", "arguments", "id"}}) on
         * stdout after the content.
         */
        private Completion richReply(String text, ReplyPrinter printer, AbortSignal abort) {
            GenerateOptions options = GenerateOptions.builder().maxTokens(maxTokens)
                    .abortSignal(interactive ? abort : null).build();
            List<Media> media = List.copyOf(pending);
            pending.clear();
            ChatReply r = chat.send(text, media, flags.samplerSettings(), options, new ChatStreamListener() {
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
                    com.fasterxml.jackson.databind.node.ObjectNode line =
                            com.fasterxml.jackson.databind.json.JsonMapper.builder().build().createObjectNode();
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

        /**
         * Ctrl-C stops the reply being generated; between replies it quits as usual. Through
         * reflection, since {@code sun.misc.Signal} (module jdk.unsupported) draws a warning from
         * javac; where it is missing, Ctrl-C just quits.
         */
        void installInterruptHandler() {
            Runnable onInterrupt = () -> {
                AbortSignal a = current.get();
                if (a != null) {
                    a.abort();
                } else {
                    err.println();
                    System.exit(130);
                }
            };
            try {
                Class<?> signal = Class.forName("sun.misc.Signal");
                Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
                Object handler = Proxy.newProxyInstance(handlerType.getClassLoader(), new Class<?>[] {handlerType},
                        (proxy, method, a) -> switch (method.getName()) {
                            case "handle" -> {
                                onInterrupt.run();
                                yield null;
                            }
                            case "hashCode" -> System.identityHashCode(proxy);
                            case "equals" -> proxy == a[0];
                            default -> "Ctrl-C handler";
                        });
                signal.getMethod("handle", signal, handlerType).invoke(null,
                        signal.getConstructor(String.class).newInstance("INT"), handler);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                // no SIGINT handling here (e.g. -Xrs): Ctrl-C quits as usual
            }
        }
    }

    /**
     * Streams a reply without its leading and trailing whitespace: whitespace at the end of what
     * arrived so far is held back until more text follows it.
     */
    private static final class ReplyPrinter implements Consumer<String> {
        private final PrintStream out;
        private final StringBuilder held = new StringBuilder();
        private boolean started;

        ReplyPrinter(PrintStream out) {
            this.out = out;
        }

        boolean started() {
            return started;
        }

        @Override
        public void accept(String piece) {
            if (!started) {
                piece = piece.stripLeading();
                if (piece.isEmpty()) {
                    return;
                }
                started = true;
            }
            String body = piece.stripTrailing();
            if (body.isEmpty()) {
                held.append(piece);
                return;
            }
            out.print(held);
            out.print(body);
            out.flush();
            held.setLength(0);
            held.append(piece, body.length(), piece.length());
        }
    }

    /** A one-line load progress bar on stderr, cleared when the load ends. */
    private static final class ProgressBar implements LoadProgressListener {
        private static final int WIDTH = 30;
        private final PrintStream err;
        private final String name;
        private int shown = -1;

        ProgressBar(PrintStream err, String name) {
            this.err = err;
            this.name = name;
        }

        @Override
        public boolean onProgress(float progress) {
            int pct = Math.max(0, Math.min(100, Math.round(progress * 100)));
            if (pct != shown) {
                shown = pct;
                int filled = pct * WIDTH / 100;
                err.print("\rloading " + name + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
                        + pct + "%");
                err.flush();
            }
            return true;
        }

        void clear() {
            if (shown >= 0) {
                err.print("\r" + " ".repeat(WIDTH + name.length() + 16) + "\r");
                err.flush();
            }
        }
    }
}
