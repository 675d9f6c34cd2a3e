package org.llamajava.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The base of every subcommand: picocli parses the flags into the subclass's fields, then
 * {@link #run()} does the work with the streams {@link Main} gives. To add a command, write a
 * subclass annotated with {@code @Command(name = ..., description = ...)} and add it to
 * {@link Main#commands()}; shared flags come as mixins ({@link ModelOption}, {@link GpuOption},
 * {@link ContextOptions}, {@link SamplingOptions}).
 */
abstract class CliCommand implements Callable<Integer> {
    /** Results. */
    protected PrintStream out;
    /** Logs, progress and errors. */
    protected PrintStream err;

    @Spec
    protected CommandSpec spec;

    /** Sets the streams; {@link Main} calls it before parsing. */
    final void streams(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public final Integer call() throws Exception {
        // --list-devices (GpuOption): an action, as in llama.cpp's tools, before any other flag is checked
        for (CommandSpec mixin : spec.mixins().values()) {
            if (mixin.userObject() instanceof GpuOption gpu && gpu.printDevicesIfAsked(out)) {
                return 0;
            }
        }
        return run();
    }

    /**
     * Runs the command after its flags are parsed; returns the exit status. Throws
     * {@link UsageException} for usage mistakes (status 2) and any other exception for bad input
     * (status 1, its message on one line).
     */
    protected abstract int run() throws Exception;
}
