package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * The {@code llama-java} command line: {@code java -jar llama-java.jar SUBCOMMAND [FLAGS]}.
 * Flags follow llama.cpp's tools. Results go to stdout, logs and errors to stderr; bad input
 * exits with status 1 (2 for usage errors) and a one-line message.
 */
public final class Main {

    private static final Map<String, Command> COMMANDS = Map.ofEntries(
            Map.entry("tokenize", new TokenizeCommand()),
            Map.entry("generate", new GenerateCommand()),
            Map.entry("chat", new ChatCommand()),
            Map.entry("inspect", new InspectCommand()),
            Map.entry("bench", new BenchCommand()),
            Map.entry("write-model", new WriteModelCommand()),
            Map.entry("embed", new EmbedCommand()),
            Map.entry("rerank", new RerankCommand()),
            Map.entry("json-schema-to-grammar", new JsonSchemaToGrammarCommand()),
            Map.entry("serve", new ServeCommand()),
            Map.entry("quantize", new QuantizeCommand()));

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, new PrintStream(System.out, true, StandardCharsets.UTF_8),
                new PrintStream(System.err, true, StandardCharsets.UTF_8)));
    }

    /** Runs a command line and returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            err.println(usage());
            return args.length == 0 ? 2 : 0;
        }
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        if (verbose) {
            args = java.util.Arrays.stream(args).filter(a -> !a.equals("--verbose")).toArray(String[]::new);
        }
        configureLogging(verbose);
        Command cmd = COMMANDS.get(args[0]);
        if (cmd == null) {
            err.println("error: unknown command '" + args[0] + "' (commands: "
                    + String.join(", ", new java.util.TreeSet<>(COMMANDS.keySet())) + "; --help for usage)");
            return 2;
        }
        try {
            return cmd.run(new Args(Arrays.copyOfRange(args, 1, args.length)), out, err);
        } catch (Args.UsageException e) {
            err.println("error: " + e.getMessage() + "\nusage: llama-java " + args[0] + " " + cmd.usage());
            return 2;
        } catch (RuntimeException e) {
            err.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
    }

    /**
     * llama.cpp's own log stays quiet unless {@code --verbose} is given: errors reach the user
     * through the one-line message, which already names llama.cpp's reason.
     */
    private static void configureLogging(boolean verbose) {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(org.llamajava.Llama.NATIVE_LOGGER);
        log.setUseParentHandlers(false);
        for (java.util.logging.Handler h : log.getHandlers()) {
            log.removeHandler(h);
        }
        if (verbose) {
            java.util.logging.ConsoleHandler h = new java.util.logging.ConsoleHandler();
            h.setLevel(java.util.logging.Level.ALL);
            h.setFormatter(new java.util.logging.SimpleFormatter() {
                @Override
                public String format(java.util.logging.LogRecord r) {
                    return r.getMessage() + System.lineSeparator();
                }
            });
            log.addHandler(h);
            log.setLevel(java.util.logging.Level.ALL);
        } else {
            log.setLevel(java.util.logging.Level.OFF);
        }
    }

    private static String usage() {
        StringBuilder sb = new StringBuilder("usage: java -jar llama-java.jar COMMAND [FLAGS] [--verbose]\ncommands:\n");
        COMMANDS.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append("  ").append(e.getKey()).append(' ').append(e.getValue().usage()).append('\n'));
        return sb.toString().stripTrailing();
    }
}
