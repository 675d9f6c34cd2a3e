package org.llamajava.cli;

import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * Streams a chat reply without its leading and trailing whitespace: whitespace at the end of what
 * arrived so far is held back until more text follows it.
 */
final class ReplyPrinter implements Consumer<String> {
    private final PrintStream out;
    private final StringBuilder held = new StringBuilder();
    private boolean started;

    ReplyPrinter(PrintStream out) {
        this.out = out;
    }

    /** Whether any text has been printed. */
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
