package org.llamajava.internal;

import java.util.List;

/**
 * Finds stop strings in streamed text: passes on only text that cannot be the start of a stop
 * string, so a stop string split across tokens is never emitted.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    public StopMatcher(List<String> stops) {
        this.stops = stops;
    }

    /** Adds text; returns what can be emitted now (text before a stop string, once one is found). */
    public String push(String text) {
        if (stopped) {
            return "";
        }
        if (stops.isEmpty()) {
            return text;
        }
        pending.append(text);
        int at = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (at < 0 || i < at)) {
                at = i;
            }
        }
        if (at >= 0) {
            stopped = true;
            String out = pending.substring(0, at);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, pending.length()); k > hold; k--) {
                if (endsWithPrefix(s, k)) {
                    hold = k;
                    break;
                }
            }
        }
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** Whether {@code pending} ends with the first {@code k} characters of {@code s}. */
    private boolean endsWithPrefix(String s, int k) {
        int base = pending.length() - k;
        for (int i = 0; i < k; i++) {
            if (pending.charAt(base + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Text held back at the end of a generation that did not stop on a stop string. */
    public String flush() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }

    public boolean stopped() {
        return stopped;
    }
}
