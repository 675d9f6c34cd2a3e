package org.llamajava.langchain4j;

import java.util.Map;

/** Defaults of a chat adapter, taken when a request does not set them, and its fixed sampler stages. */
record ChatSettings(int contextSize, int threads, double temperature, Integer topK, Double topP, int maxTokens,
                    int seed, Map<Integer, Float> logitBias, Penalties penalties) {}
