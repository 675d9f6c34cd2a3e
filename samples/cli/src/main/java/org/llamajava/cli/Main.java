package org.llamajava.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code llama-java} command line: {@code java -jar llama-java.jar SUBCOMMAND [FLAGS]}.
 * Flags follow llama.cpp's tools (picocli parses them). Results go to stdout, logs and errors to
 * stderr; bad input exits with status 1 and usage errors with status 2, each with a one-line
 * {@code error:} message.
 */
@Command(name = "llama-java", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Run GGUF models with llama.cpp from the JVM.",
        footer = {"", "'llama-java COMMAND --help' shows a command's flags."})
public final class Main implements Callable<Integer> {
    /** Exit status of a usage error. */
    static final int USAGE = 2;
    /** Exit status of bad input. */
    static final int FAILED = 1;

    @Option(names = {"-v", "--verbose", "--log-verbose"}, scope = ScopeType.INHERIT, description = "show llama.cpp's own log on stderr")
    boolean verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private Main() {}

    /**
     * The subcommands, in the order {@code --help} lists them. A new command is one more line
     * here (and its class).
     */
    static List<CliCommand> commands() {
        return List.of(new GenerateCommand(), new ChatCommand(), new TokenizeCommand(), new EmbedCommand(),
                new RerankCommand(), new ServeCommand(), new PullCommand(), new ModelsCommand(), new BenchCommand(), new RpcServerCommand(),
                new InspectCommand(),
                new WriteModelCommand(), new QuantizeCommand(), new JsonSchemaToGrammarCommand(), new CompletionCommand());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintStream(System.out, true, StandardCharsets.UTF_8),
                new PrintStream(System.err, true, StandardCharsets.UTF_8)));
    }

    /** Runs a command line and returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return commandLine(out, err).execute(args.length > 0 && args[0].equals("serve") ? ServeCommand.dashes(args) : args);
    }

    /** The whole command tree, writing to these streams. */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main());
        for (CliCommand c : commands()) {
            c.streams(out, err);
            cl.addSubcommand(c);
        }
        boolean color = System.getenv("NO_COLOR") == null || System.getenv("NO_COLOR").isEmpty();
        cl.setColorScheme(Help.defaultColorScheme(color ? Help.Ansi.AUTO : Help.Ansi.OFF));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        // llama.cpp's flags are whole words (-ngl, -ctk): never split "-ngl" into -n gl
        cl.setPosixClusteredShortOptionsAllowed(false);
        cl.setAbbreviatedOptionsAllowed(false);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler((e, command, parseResult) -> failure(e, command));
        cl.setExecutionStrategy(parseResult -> {
            configureLogging(verbose(parseResult));
            return new CommandLine.RunLast().execute(parseResult);
        });
        return cl;
    }

    /** Without a command: the usage on stderr, status 2. */
    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        cl.usage(cl.getErr(), Help.Ansi.OFF);
        return USAGE;
    }

    private static boolean verbose(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** A parse error: one {@code error:} line, typo suggestions, and where to find the flags; status 2. */
    private static int usageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter e = cl.getErr();
        boolean top = cl.getParent() == null;
        if (top && ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-")) {
            e.println("error: unknown command '" + u.getUnmatched().get(0) + "' (commands: "
                    + String.join(", ", cl.getSubcommands().keySet()) + "; --help for usage)");
            UnmatchedArgumentException.printSuggestions(ex, e);
        } else {
            e.println("error: " + ex.getMessage());
            UnmatchedArgumentException.printSuggestions(ex, e);
            e.println(usageHint(cl));
        }
        e.flush();
        return USAGE;
    }

    /** An exception from a command: a usage error (status 2) or bad input (status 1), on one line. */
    private static int failure(Exception e, CommandLine command) {
        PrintWriter w = command.getErr();
        if (e instanceof UsageException) {
            w.println("error: " + e.getMessage());
            w.println(usageHint(command));
            w.flush();
            return USAGE;
        }
        w.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        w.flush();
        return FAILED;
    }

    private static String usageHint(CommandLine cl) {
        return "usage: " + cl.getCommandSpec().qualifiedName() + " [FLAGS]; '" + cl.getCommandSpec().qualifiedName()
                + " --help' lists them";
    }

    /**
     * Held here: java.util.logging keeps loggers only weakly, so a configured logger that nothing
     * references can be collected and come back with the default configuration (printing
     * llama.cpp's warnings to stderr).
     */
    private static final Logger NATIVE_LOG = Logger.getLogger(org.llamajava.Llama.NATIVE_LOGGER);

    /** The batching engine's log (its debug lines: slots and the prompt cache), held for the same reason. */
    private static final Logger ENGINE_LOG = Logger.getLogger(org.llamajava.batch.BatchEngine.class.getName());

    /**
     * llama.cpp's own log stays quiet unless {@code --verbose} is given: errors reach the user
     * through the one-line message, which already names llama.cpp's reason. {@code --verbose} also
     * shows the batching engine's debug lines (as llama-server's {@code --verbose} shows its own).
     */
    private static void configureLogging(boolean verbose) {
        Logger log = NATIVE_LOG;
        log.setUseParentHandlers(false);
        for (Handler h : log.getHandlers()) {
            log.removeHandler(h);
        }
        for (Handler h : ENGINE_LOG.getHandlers()) {
            ENGINE_LOG.removeHandler(h);
        }
        ENGINE_LOG.setUseParentHandlers(!verbose); // quiet: its warnings reach the console as before
        ENGINE_LOG.setLevel(null);
        if (verbose) {
            ConsoleHandler h = new ConsoleHandler();
            h.setLevel(Level.ALL);
            h.setFormatter(new SimpleFormatter() {
                @Override
                public String format(LogRecord r) {
                    return formatMessage(r) + System.lineSeparator();
                }
            });
            log.addHandler(h);
            log.setLevel(Level.ALL);
            ENGINE_LOG.addHandler(h);
            ENGINE_LOG.setLevel(Level.ALL);
        } else {
            log.setLevel(Level.OFF);
        }
    }
}
