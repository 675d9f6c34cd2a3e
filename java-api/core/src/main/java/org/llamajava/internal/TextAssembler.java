package org.llamajava.internal;

import java.util.List;
import java.util.function.Consumer;

/**
 * Turns a generation's token pieces into text: whole UTF-8 characters only, stop strings held
 * back until they are ruled out and never emitted, each released piece passed to a callback.
 * Shared by every generation loop (a Sequence's, the batching engine's). Internal: not API.
 */
public final class TextAssembler {
    private final Utf8Stream utf8 = new Utf8Stream();
    private final StopMatcher stops;
    private final StringBuilder text = new StringBuilder();
    private final Consumer<String> onText;

    /** @param onText receives each released piece; may be null */
    public TextAssembler(List<String> stopStrings, Consumer<String> onText) {
        this.stops = new StopMatcher(stopStrings);
        this.onText = onText;
    }

    /** Adds one token's bytes; returns the text released by it ("" if none). */
    public String push(byte[] bytes, int n) {
        return emit(stops.push(utf8.push(bytes, 0, n)));
    }

    /** Whether a stop string has appeared (generation must end). */
    public boolean stopped() {
        return stops.stopped();
    }

    /** Releases what is held at the end of a generation; returns it ("" if none). */
    public String finish() {
        if (stops.stopped()) {
            return "";
        }
        String s = emit(stops.push(utf8.flush()));
        return stops.stopped() ? s : s + emit(stops.flush());
    }

    /** All text released so far. */
    public String text() {
        return text.toString();
    }

    private String emit(String s) {
        if (!s.isEmpty()) {
            text.append(s);
            if (onText != null) {
                onText.accept(s);
            }
        }
        return s;
    }
}
