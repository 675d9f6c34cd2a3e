package org.llamajava.internal;

import java.util.List;

/**
 * A prompt of text and media segments laid out as positions: {@link #keys()} holds each text
 * token, and for each media position a negative key derived from the media's content, so that a
 * cache holding the same media compares equal. Internal: not part of the API.
 */
public final class MediaPrompt {
    private final List<PromptSegment> segments;
    private final int[] starts;
    private final int[] keys;
    private final int mediaPositions;

    public MediaPrompt(List<PromptSegment> segments) {
        this.segments = List.copyOf(segments);
        this.starts = new int[segments.size()];
        int total = 0;
        int media = 0;
        for (int i = 0; i < segments.size(); i++) {
            starts[i] = total;
            total = Math.addExact(total, segments.get(i).positions());
            media += segments.get(i).isMedia() ? segments.get(i).positions() : 0;
        }
        this.mediaPositions = media;
        this.keys = new int[total];
        for (int i = 0; i < segments.size(); i++) {
            PromptSegment s = segments.get(i);
            for (int k = 0; k < s.positions(); k++) {
                keys[starts[i] + k] = s.isMedia() ? key(s.key(), k) : s.tokens()[k];
            }
        }
    }

    /** The key of a media chunk's {@code i}th position: negative, so never a token id. */
    public static int key(long mediaKey, int i) {
        long h = (mediaKey ^ (mediaKey >>> 29)) * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L;
        return -1 - (int) ((h ^ (h >>> 32)) & 0x3fffffff);
    }

    public List<PromptSegment> segments() {
        return segments;
    }

    /** Every position's key (a copy). */
    public int[] keys() {
        return keys.clone();
    }

    public int length() {
        return keys.length;
    }

    /** How many positions are media embeddings. */
    public int mediaPositions() {
        return mediaPositions;
    }

    /** The media segment starting at {@code pos}, or null. */
    public PromptSegment mediaAt(int pos) {
        for (int i = 0; i < starts.length; i++) {
            if (starts[i] == pos && segments.get(i).isMedia()) {
                return segments.get(i);
            }
        }
        return null;
    }

    /** The start of the first media segment at or after {@code pos}, or {@link #length()}. */
    public int nextMediaStart(int pos) {
        for (int i = 0; i < starts.length; i++) {
            if (starts[i] >= pos && segments.get(i).isMedia()) {
                return starts[i];
            }
        }
        return keys.length;
    }

    /** {@code pos}, or the start of the media segment it falls inside (a media chunk is evaluated whole). */
    public int alignDown(int pos) {
        for (int i = 0; i < starts.length; i++) {
            PromptSegment s = segments.get(i);
            if (s.isMedia() && starts[i] < pos && pos < starts[i] + s.positions()) {
                return starts[i];
            }
        }
        return pos;
    }
}
