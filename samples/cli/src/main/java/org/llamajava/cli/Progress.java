package org.llamajava.cli;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.hub.DownloadListener;
import org.llamajava.hub.ModelCache;

/**
 * The CLI's one progress bar (me.tongfei:progressbar, drawn on stderr), for every long task:
 * loading a model, downloading one, benchmarks. Shown only when the CLI runs on a terminal; elsewhere
 * every method does nothing, so scripts and logs never see it. The bar is cleared when it closes.
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintStream err;
    private long done;

    private Progress(ProgressBar bar, PrintStream err) {
        this.bar = bar;
        this.err = err;
    }

    /** Whether bars are drawn: on a terminal. */
    static boolean shown() {
        return Terminals.interactive();
    }

    /**
     * A bar for a task of {@code max} steps (-1: unknown) counted in {@code unit} of {@code unitSize}
     * steps each (e.g. "MiB", 1 << 20; or "", 1), showing the speed when {@code speed}.
     */
    static Progress start(String task, long max, String unit, long unitSize, boolean speed, PrintStream err) {
        if (!shown()) {
            return new Progress(null, err);
        }
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(max)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(err))
                .setUpdateIntervalMillis(100).clearDisplayOnFinish().setUnit(unit, unitSize);
        if (speed) {
            b.showSpeed();
        }
        return new Progress(b.build(), err);
    }

    /**
     * A {@link DownloadListener} for {@link ModelCache}: says what it pulls where on {@code err},
     * draws a bar for each download, and prints the cache's notes.
     */
    static DownloadListener downloads(PrintStream err) {
        return new DownloadListener() {
            private Progress bar;

            @Override
            public void started(URI source, Path target) {
                err.println("pulling " + source + " to " + target);
                bar = start(target.getFileName().toString(), -1, "MiB", 1 << 20, true, err);
            }

            @Override
            public void progress(long bytes, long total) {
                if (bar != null) {
                    bar.max(total);
                    bar.stepTo(bytes);
                }
            }

            @Override
            public void note(String message) {
                err.println("(" + message + ")");
            }

            @Override
            public void ended() {
                if (bar != null) {
                    bar.close();
                    bar = null;
                }
            }
        };
    }

    /** Moves the bar to {@code n} steps done. */
    void stepTo(long n) {
        done = n;
        if (bar != null) {
            bar.stepTo(n);
        }
    }

    /** The steps done so far. */
    long done() {
        return done;
    }

    /** Sets the total when it becomes known. */
    void max(long max) {
        if (bar != null) {
            bar.maxHint(max);
        }
    }

    /** Erases the bar's line, so that a result line printed now starts at the left edge; it comes back at its next update. */
    void clearLine() {
        if (bar != null) {
            err.print("\r\033[2K");
            err.flush();
        }
    }

    /** Sets the text after the bar. */
    void message(String text) {
        if (bar != null) {
            bar.setExtraMessage(text);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    /** Loads a model with a load bar (percent) on a terminal. */
    static Model loadModel(Path file, ModelParams.Builder params, PrintStream err) {
        if (!shown()) {
            return Model.load(file, params.build());
        }
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        try (Progress p = start("loading " + name, 100, "%", 1, false, err)) {
            params.progress(f -> {
                p.stepTo(Math.max(0, Math.min(100, Math.round(f * 100))));
                return true;
            });
            return Model.load(file, params.build());
        }
    }
}
