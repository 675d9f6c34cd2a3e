package org.llamajava;

import java.util.List;

/**
 * One sampled token, passed to {@link GenerateOptions#onToken()}.
 *
 * @param token        the token id
 * @param logprob      its log-probability, or NaN unless {@link GenerateOptions#logprobs()} > 0
 * @param alternatives the most likely tokens at this step, best first (empty unless requested)
 */
public record GeneratedToken(int token, float logprob, List<TokenProbability> alternatives) {}
