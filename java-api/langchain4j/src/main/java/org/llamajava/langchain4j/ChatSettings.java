package org.llamajava.langchain4j;

/** Defaults of a chat adapter, taken when a request does not set them. */
record ChatSettings(int contextSize, int threads, double temperature, Integer topK, Double topP, int maxTokens,
                    int seed) {}
