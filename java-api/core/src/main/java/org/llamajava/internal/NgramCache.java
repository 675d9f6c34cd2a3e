package org.llamajava.internal;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Draft-free speculation: n-gram statistics of the tokens seen so far and drafting from them, as
 * llama.cpp's {@code common/ngram-cache} does for {@code llama-lookup} with its context cache
 * (n-grams of {@code ngramMin..ngramMax} tokens mapped to counts of the token that followed them;
 * a draft token is the most frequent follower of the longest n-gram that passes the lax
 * thresholds: at least {2, 2, 1, 1} samples and {66, 50, 50, 50} percent by n-gram size).
 *
 * <p>The cache follows a token list that only grows; when the list given to {@link #draft}
 * diverges from the one seen before, the cache is rebuilt.
 */
public final class NgramCache {
    private static final int[] MIN_SAMPLES = {2, 2, 1, 1};
    private static final int[] MIN_PERCENT = {66, 50, 50, 50};

    private record Key(int a, int b, int c, int d) {}

    private final int ngramMin;
    private final int ngramMax;
    private final Map<Key, Map<Integer, int[]>> cache = new HashMap<>();
    private int[] seen = new int[256];
    private int seenLength;

    public NgramCache(int ngramMin, int ngramMax) {
        if (ngramMin < 1 || ngramMax > 4 || ngramMin > ngramMax) {
            throw new IllegalArgumentException("n-gram sizes must satisfy 1 <= min <= max <= 4");
        }
        this.ngramMin = ngramMin;
        this.ngramMax = ngramMax;
    }

    /**
     * Drafts up to {@code max} tokens following {@code tokens[0..length)} into {@code out}.
     *
     * @return how many were drafted
     */
    public int draft(int[] tokens, int length, int[] out, int max) {
        sync(tokens, length);
        if (length < 2) { // llama.cpp's LLAMA_NGRAM_STATIC
            return 0;
        }
        int n = 0;
        while (n < max) {
            int token = -1;
            for (int size = ngramMax; size >= ngramMin && token < 0; size--) {
                if (size > length + n) {
                    continue;
                }
                Map<Integer, int[]> part = cache.get(key(tokens, length, out, length + n - size, size));
                if (part == null) {
                    continue;
                }
                int best = -1;
                int bestCount = 0;
                int sum = 0;
                for (Map.Entry<Integer, int[]> e : part.entrySet()) {
                    int c = e.getValue()[0];
                    if (c > bestCount) {
                        best = e.getKey();
                        bestCount = c;
                    }
                    sum += c;
                }
                if (sum < MIN_SAMPLES[size - 1] || 100 * bestCount < MIN_PERCENT[size - 1] * sum) {
                    continue;
                }
                token = best;
            }
            if (token < 0) {
                break;
            }
            out[n++] = token;
        }
        return n;
    }

    /** Makes the cache describe exactly {@code tokens[0..length)}, adding what is new. */
    private void sync(int[] tokens, int length) {
        int common = 0;
        int max = Math.min(seenLength, length);
        while (common < max && seen[common] == tokens[common]) {
            common++;
        }
        if (common < seenLength) {
            cache.clear();
            seenLength = 0;
            common = 0;
        }
        if (length > seen.length) {
            seen = Arrays.copyOf(seen, Math.max(length, seen.length * 2));
        }
        System.arraycopy(tokens, common, seen, common, length - common);
        int from = seenLength;
        seenLength = length;
        for (int size = ngramMin; size <= ngramMax; size++) {
            for (int i = Math.max(from, size); i < length; i++) {
                Map<Integer, int[]> part = cache.computeIfAbsent(key(seen, length, null, i - size, size),
                        k -> new LinkedHashMap<>());
                part.computeIfAbsent(seen[i], k -> new int[1])[0]++;
            }
        }
    }

    /** The n-gram of {@code size} tokens from index {@code start} of tokens followed by draft. */
    private static Key key(int[] tokens, int length, int[] draft, int start, int size) {
        int[] k = {-1, -1, -1, -1};
        for (int j = 0; j < size; j++) {
            int i = start + j;
            k[j] = i < length ? tokens[i] : draft[i - length];
        }
        return new Key(k[0], k[1], k[2], k[3]);
    }
}
