package org.llamajava.langchain4j;

/** llama.cpp's penalties sampler settings. */
record Penalties(int lastN, float repeat, float frequency, float presence) {}
