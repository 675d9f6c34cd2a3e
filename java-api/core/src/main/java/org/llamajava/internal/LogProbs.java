package org.llamajava.internal;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.GeneratedToken;
import org.llamajava.TokenProbability;

/** Log-probabilities of a sampled token and the top alternatives, from raw logits read in place. Internal: not API. */
public final class LogProbs {
    private LogProbs() {}

    /** The token with its log-probability and the {@code k} most likely tokens (none and NaN when {@code k} is 0). */
    public static GeneratedToken describe(FloatBuffer logits, int token, int k) {
        if (k == 0) {
            return new GeneratedToken(token, Float.NaN, List.of());
        }
        int v = logits.remaining();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            max = Math.max(max, logits.get(i));
        }
        double sum = 0;
        for (int i = 0; i < v; i++) {
            sum += Math.exp(logits.get(i) - max);
        }
        float logZ = (float) (max + Math.log(sum));
        k = Math.min(k, v);
        int[] top = new int[k];
        int filled = 0;
        for (int i = 0; i < v; i++) {
            float x = logits.get(i);
            if (filled < k || x > logits.get(top[filled - 1])) {
                int j = filled < k ? filled++ : k - 1;
                while (j > 0 && logits.get(top[j - 1]) < x) {
                    top[j] = top[j - 1];
                    j--;
                }
                top[j] = i;
            }
        }
        List<TokenProbability> alternatives = new ArrayList<>(k);
        for (int i = 0; i < filled; i++) {
            alternatives.add(new TokenProbability(top[i], logits.get(top[i]) - logZ));
        }
        return new GeneratedToken(token, logits.get(token) - logZ, List.copyOf(alternatives));
    }
}
