package org.llamajava.langchain4j;

import org.llamajava.SamplingSettings;

/**
 * Defaults of a chat adapter, taken when a request does not set them: the context, the most tokens
 * of a reply, and the sampling settings (core's, with llama-server's defaults) that a request's
 * temperature, top-k, top-p and penalties override.
 */
record ChatSettings(int contextSize, int threads, int maxTokens, SamplingSettings sampling) {}
