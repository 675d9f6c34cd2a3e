package org.llamajava;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One sampled token, passed to {@link GenerateOptions#onToken()}.
 *
 * @param token        the token id
 * @param logprob      its log-probability, or NaN unless {@link GenerateOptions#logprobs()} > 0
 * @param alternatives the most likely tokens at this step, best first (empty unless requested)
 */
public record GeneratedToken(int token, float logprob, List<TokenProbability> alternatives) {

    /**
     * Describes a token sampled from {@code logits} (one per vocabulary entry, e.g.
     * {@link Context#logits()}): its log-probability under the softmax of the raw logits and the
     * {@code k} most likely tokens, best first, as llama-server's {@code n_probs} reports them.
     *
     * @param logits read from index 0 to {@code remaining()}; may be null when {@code k} is 0
     * @param k how many alternatives; 0 gives none and a NaN log-probability
     */
    public static GeneratedToken of(int token, FloatBuffer logits, int k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be 0 or more; got " + k);
        }
        if (k == 0) {
            return new GeneratedToken(token, Float.NaN, List.of());
        }
        if (logits == null) {
            throw new IllegalArgumentException("logits are required when k > 0");
        }
        int v = logits.remaining();
        if (token < 0 || token >= v) {
            throw new IllegalArgumentException("token " + token + " is outside the " + v + " logits");
        }
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
