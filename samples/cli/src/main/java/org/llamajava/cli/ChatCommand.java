package org.llamajava.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.llamajava.Context;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.chat.ChatOptions;
import org.llamajava.chat.ChatSession;
import org.llamajava.multimodal.Projector;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.chat.ReasoningFormat;
import org.llamajava.chat.Tool;
import org.llamajava.chat.ToolChoice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code chat -m MODEL [--system TEXT] [--chat-template NAME_OR_FILE] [sampling flags]}: a
 * conversation read from stdin, one user turn per line.
 *
 * <p>On a terminal it is interactive ({@link TerminalChat}: a line editor with history, multi-line
 * input, Ctrl-C stopping the reply). Otherwise stdout holds only the replies, each trimmed of
 * surrounding whitespace and followed by one empty line; everything else goes to stderr. Lines
 * starting with {@code /} are commands: {@code /reset}, {@code /save FILE}, {@code /load FILE},
 * {@code /exit}. Empty lines are ignored.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Chat with a model: a line editor on a terminal, one turn per line from a pipe.",
                "On a terminal: a line editor with history (Up/Down), multi-line input "
                + "(end a line with \\ or press Alt-Enter), Ctrl-C stops a reply (at an empty prompt it quits, as does "
                + "Ctrl-D), and the commands /reset, /save FILE, /load FILE, /exit.",
                "With stdin not a terminal: each line is one user turn and stdout holds only the replies, each followed "
                        + "by an empty line."})
final class ChatCommand extends CliCommand {
    /** {@code -n}'s default: the most tokens per reply. */
    static final int DEFAULT_MAX_TOKENS = 256;

    @Mixin
    ModelOption model;

    @Option(names = {"-sys", "--system", "--system-prompt"}, paramLabel = "TEXT", description = "the system prompt")
    String system;

    @Option(names = "--chat-template", paramLabel = "NAME_OR_FILE", defaultValue = "${env:LLAMA_ARG_CHAT_TEMPLATE}",
            description = "a built-in template's name or a Jinja file (default: the model's; env: LLAMA_ARG_CHAT_TEMPLATE)")
    String template;

    @Option(names = "--tools", paramLabel = "FILE", description = "OpenAI-style tool definitions (a JSON array)")
    Path tools;

    @Option(names = "--tool-choice", paramLabel = "auto|none|required", description = "whether the model must call a tool")
    String toolChoice;

    @Option(names = "--reasoning-format", paramLabel = "FORMAT",
            description = "none, auto, deepseek or deepseek-legacy: where the reasoning goes (stderr)")
    String reasoningFormat;

    @Option(names = "--reasoning-budget", paramLabel = "N", description = "the most reasoning tokens (-1: no limit)")
    String reasoningBudget;

    @Option(names = "--reasoning-budget-message", paramLabel = "TEXT",
            description = "the text forced when the reasoning budget runs out")
    String reasoningBudgetMessage;

    @Option(names = "--history-file", paramLabel = "FILE", defaultValue = "${env:LLAMA_JAVA_HISTORY}",
            description = "the terminal chat's history (default: ~/.llama-java/chat_history; 'none' keeps none; "
                    + "env: LLAMA_JAVA_HISTORY)")
    String historyFile;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ContextOptions context;

    @Mixin
    GpuOption gpu;

    @Mixin
    Multimodal multimodal;

    @Mixin
    AdapterOptions adapters;

    @Override
    protected int run() throws IOException {
        if (!model.given()) {
            throw new UsageException("missing -m MODEL");
        }
        sampling.check();
        context.check();
        gpu.layers();
        adapters.check();
        try {
            ChatTemplate.checkResolvable(template);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown chat template: " + e.getMessage(), e);
        }
        ChatOptions chatOptions = chatOptions();
        if (chatOptions != null && sampling.grammar() != null) {
            throw new UsageException("--tools/--reasoning-format and a grammar flag cannot be combined:"
                    + " the chat format makes its own grammar");
        }
        Path modelPath = model.path(this);
        if (!Terminals.interactive()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            try (Model m = Model.load(modelPath, gpu.modelParams().build())) {
                return chat(m, chatOptions, null, in::readLine);
            }
        }
        try (Terminal terminal = TerminalBuilder.builder().system(true).encoding(StandardCharsets.UTF_8).build();
             Model m = Progress.loadModel(modelPath, gpu.modelParams(), err)) {
            return chat(m, chatOptions, terminal, null);
        }
    }

    /** The chat over a loaded model: on the terminal when {@code terminal} is given, else over {@code lines}. */
    private int chat(Model m, ChatOptions chatOptions, Terminal terminal, LineSource lines) {
        try (Projector projector = multimodal.load(m, context.threads());
             Context ctx = m.createContext(context.contextParams(m));
             Sequence seq = ctx.newSequence();
             Sampler sampler = sampling.sampler(m)) {
            AdapterOptions.Loaded loaded = adapters.load(m);
            loaded.accept(ctx);
            if (loaded.describe() != null) {
                err.println("applied " + loaded.describe());
            }
            ChatSession chat = new ChatSession(seq, ChatTemplate.resolve(m, template), system);
            chat.setProjector(projector);
            if (chatOptions != null) {
                chat.setOptions(chatOptions);
            }
            int maxTokens = sampling.maxTokens(DEFAULT_MAX_TOKENS);
            if (terminal == null) {
                return new ChatLoop(chat, sampler, sampling, maxTokens, chatOptions != null, false, out, err)
                        .loop(lines);
            }
            String name = m.path() == null ? "the model" : String.valueOf(m.path().getFileName());
            String which = template != null ? "chat template " + template
                    : m.chatTemplate() != null ? "the model's chat template" : "chat template chatml (the model has none)";
            TerminalChat tc = new TerminalChat(terminal, history(), Terminals.colors(true));
            tc.banner(String.format("chat with %s (%s, context %d tokens)", name, which, ctx.contextSize()));
            return tc.run(out -> new ChatLoop(chat, sampler, sampling, maxTokens, chatOptions != null, true, out,
                    tc.errStream()));
        }
    }

    /** The history file, or null for none. */
    private Path history() {
        if (historyFile != null) {
            return historyFile.isEmpty() || historyFile.equals("none") ? null : Path.of(historyFile);
        }
        return Path.of(System.getProperty("user.home"), ".llama-java", "chat_history");
    }

    /**
     * The chat API options of {@code --tools FILE} (OpenAI-style definitions), {@code --tool-choice}
     * {@code --reasoning-format} and {@code --reasoning-budget N} (with {@code --reasoning-budget-message}),
     * or null if none is given (plain chat).
     */
    private ChatOptions chatOptions() {
        if (reasoningBudgetMessage != null && reasoningBudget == null) {
            throw new UsageException("--reasoning-budget-message needs --reasoning-budget N");
        }
        if (tools == null && toolChoice == null && reasoningFormat == null && reasoningBudget == null) {
            return null;
        }
        ChatOptions.Builder b = ChatOptions.builder();
        if (toolChoice != null) {
            b.toolChoice(switch (toolChoice) {
                case "auto" -> ToolChoice.AUTO;
                case "none" -> ToolChoice.NONE;
                case "required" -> ToolChoice.REQUIRED;
                default -> throw new UsageException("--tool-choice must be auto, none or required");
            });
        }
        if (reasoningFormat != null) {
            try {
                b.reasoningFormat(ReasoningFormat.of(reasoningFormat));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--reasoning-format: " + e.getMessage());
            }
        }
        if (reasoningBudget != null) {
            int n;
            try {
                n = Integer.parseInt(reasoningBudget);
            } catch (NumberFormatException e) {
                throw new UsageException("--reasoning-budget must be a number of tokens (-1: no limit); got '"
                        + reasoningBudget + "'");
            }
            if (n < -1) {
                throw new UsageException("--reasoning-budget must be -1 (no limit) or at least 0; got " + n);
            }
            b.reasoningBudget(n, reasoningBudgetMessage);
        }
        if (tools != null) {
            try {
                b.tools(Tool.listFromJson(Files.readString(tools)));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read --tools file " + tools + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--tools " + tools + ": " + e.getMessage(), e);
            }
        }
        return b.build();
    }
}
