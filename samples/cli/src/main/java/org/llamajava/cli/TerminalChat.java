package org.llamajava.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.jline.reader.EOFError;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.ParsedLine;
import org.jline.reader.Parser;
import org.jline.reader.Reference;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.reader.impl.completer.StringsCompleter;
import org.jline.keymap.KeyMap;
import org.jline.terminal.Terminal;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStyle;

/**
 * The interactive chat on a terminal, on JLine's line editor: a {@code > } prompt with emacs-style
 * editing, history (Up/Down, Ctrl-R; kept in a file), multi-line input (a line ending with
 * {@code \} continues on the next, as does Alt-Enter), Tab completing the slash commands.
 * Ctrl-C stops the reply being generated and returns to the prompt; at the prompt, Ctrl-C on an
 * empty line or Ctrl-D quits (Ctrl-C on a typed line discards it). Replies stream to the terminal
 * as UTF-8 (whole characters only: wide CJK characters and emoji arrive intact), and colours are
 * used only when {@code colors} is set (a terminal, and NO_COLOR not set).
 */
final class TerminalChat {
    private static final String NEWLINE_WIDGET = "llama-java-insert-newline";

    private final Terminal terminal;
    private final Path history;
    private final boolean colors;
    private final PrintStream out;
    /** Runs just before each prompt is read; tests wait on it. */
    Runnable beforePrompt = () -> { };

    TerminalChat(Terminal terminal, Path history, boolean colors) {
        this.terminal = terminal;
        this.history = history;
        this.colors = colors;
        this.out = new PrintStream(terminal.output(), true, StandardCharsets.UTF_8);
    }

    /** Where replies and messages go: the terminal. */
    PrintStream errStream() {
        return out;
    }

    /** Prints the opening line, with the keys. */
    void banner(String text) {
        String keys = "Enter sends; \\ at the end of a line or Alt-Enter adds a line; Up/Down: history; "
                + "Ctrl-C stops a reply; Ctrl-D or Ctrl-C at an empty prompt quits; commands: " + ChatLoop.COMMANDS;
        out.println(style(text, AttributedStyle.BOLD));
        out.println(style(keys, AttributedStyle.DEFAULT.faint()));
    }

    private String style(String text, AttributedStyle s) {
        return colors ? new AttributedString(text, s).toAnsi(terminal) : text;
    }

    /**
     * Runs the chat that {@code loops} makes (given the stream replies go to) until the user
     * quits; returns the exit status.
     */
    int run(Function<PrintStream, ChatLoop> loops) {
        ChatLoop loop = loops.apply(out);
        LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("llama-java")
                .parser(new ContinuationParser())
                .completer(new StringsCompleter("/reset", "/save", "/load", "/image", "/exit"))
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .option(LineReader.Option.INSERT_TAB, false);
        if (history != null) {
            try {
                Path dir = history.toAbsolutePath().getParent();
                if (dir != null) {
                    Files.createDirectories(dir);
                }
                b.variable(LineReader.HISTORY_FILE, history);
            } catch (IOException e) {
                out.println("warning: no chat history: cannot create " + history.getParent() + ": " + e.getMessage());
            }
        }
        LineReader reader = b.build();
        reader.getWidgets().put(NEWLINE_WIDGET, () -> {
            reader.getBuffer().write('\n');
            return true;
        });
        KeyMap<org.jline.reader.Binding> main = reader.getKeyMaps().get(LineReader.MAIN);
        main.bind(new Reference(NEWLINE_WIDGET), KeyMap.alt('\r'), KeyMap.alt('\n'));
        String prompt = style("> ", AttributedStyle.BOLD.foreground(AttributedStyle.GREEN));

        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> loop.interrupt());
        try {
            return loop.loop(() -> {
                while (true) {
                    beforePrompt.run();
                    try {
                        return reader.readLine(prompt).replace("\\\n", "\n");
                    } catch (UserInterruptException e) {
                        if (e.getPartialLine() == null || e.getPartialLine().isBlank()) {
                            return null; // Ctrl-C at an empty prompt quits
                        }
                        // Ctrl-C on a typed line discards it: a new prompt
                    } catch (EndOfFileException e) {
                        return null;
                    }
                }
            });
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
            try {
                reader.getHistory().save();
            } catch (IOException | RuntimeException e) {
                // the history is a convenience: never fail the chat over it
            }
            out.flush();
        }
    }

    /**
     * Continues a line that ends with a backslash (as llama-cli does); everything else is one
     * line as typed (quotes and brackets mean nothing in a chat).
     */
    private static final class ContinuationParser implements Parser {
        private final DefaultParser words = new DefaultParser();

        @Override
        public ParsedLine parse(String line, int cursor, ParseContext context) {
            if (context == ParseContext.ACCEPT_LINE && line.endsWith("\\")) {
                throw new EOFError(-1, -1, "line continues", "");
            }
            return words.parse(line, cursor, ParseContext.COMPLETE);
        }
    }
}
