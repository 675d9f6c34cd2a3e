package org.llamajava.cli;

import java.io.PrintStream;

/** One CLI subcommand. */
interface Command {
    /** Runs the command; returns the exit status. */
    int run(Args args, PrintStream out, PrintStream err);

    /** The flags it takes, for the usage line. */
    String usage();
}
