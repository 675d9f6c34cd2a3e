package org.llamajava.cli;

import org.llamajava.SamplingSettings;
import picocli.CommandLine.Option;

/**
 * llama.cpp's sampler flags, with its names and environment variables, over the defaults every
 * front end shares ({@link SamplingSettings}, llama-server's): {@code generate} and {@code chat}
 * sample with them, {@code serve} makes them the defaults of the requests that leave them out.
 */
final class SamplerFlags {
    @Option(names = {"--temp", "--temperature"}, paramLabel = "T", defaultValue = "${env:LLAMA_ARG_TEMPERATURE}",
            description = "temperature; 0 is greedy (default: 0.8; env: LLAMA_ARG_TEMPERATURE)")
    Float temperature;

    @Option(names = {"-s", "--seed"}, paramLabel = "SEED", description = "sampling seed, -1 for random (default: random)")
    Long seed;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "${env:LLAMA_ARG_TOP_K}",
            description = "top-k sampling, 0 = off (default: 40; env: LLAMA_ARG_TOP_K)")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "${env:LLAMA_ARG_TOP_P}",
            description = "top-p sampling, 1.0 = off (default: 0.95; env: LLAMA_ARG_TOP_P)")
    Float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "${env:LLAMA_ARG_MIN_P}",
            description = "min-p sampling, 0.0 = off (default: 0.05; env: LLAMA_ARG_MIN_P)")
    Float minP;

    @Option(names = "--repeat-penalty", paramLabel = "P", defaultValue = "${env:LLAMA_ARG_REPEAT_PENALTY}",
            description = "repetition penalty, 1 = off (default: 1; env: LLAMA_ARG_REPEAT_PENALTY)")
    Float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N",
            description = "tokens the penalties look back over, -1 for the context (default: 64)")
    Integer repeatLastN;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "${env:LLAMA_ARG_PRESENCE_PENALTY}",
            description = "presence penalty, 0 = off (default: 0; env: LLAMA_ARG_PRESENCE_PENALTY)")
    Float presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "P", defaultValue = "${env:LLAMA_ARG_FREQUENCY_PENALTY}",
            description = "frequency penalty, 0 = off (default: 0; env: LLAMA_ARG_FREQUENCY_PENALTY)")
    Float frequencyPenalty;

    /** The flags over {@link SamplingSettings#defaults()}; a usage error for a value out of range. */
    SamplingSettings settings() {
        for (Object[] f : new Object[][] {{"--temp", temperature}, {"--top-p", topP}, {"--min-p", minP},
                {"--repeat-penalty", repeatPenalty}, {"--presence-penalty", presencePenalty},
                {"--frequency-penalty", frequencyPenalty}}) {
            Float v = (Float) f[1];
            if (v != null && (v.isNaN() || v.isInfinite())) {
                throw new UsageException(f[0] + " must be a number, not '" + v + "'");
            }
        }
        SamplingSettings.Builder b = SamplingSettings.defaults().toBuilder();
        if (temperature != null) {
            b.temperature(temperature);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (topK != null) {
            b.topK(topK);
        }
        if (topP != null) {
            b.topP(topP);
        }
        if (minP != null) {
            b.minP(minP);
        }
        if (repeatPenalty != null) {
            b.repeatPenalty(repeatPenalty);
        }
        if (repeatLastN != null) {
            b.penaltyLastN(repeatLastN);
        }
        if (presencePenalty != null) {
            b.presencePenalty(presencePenalty);
        }
        if (frequencyPenalty != null) {
            b.frequencyPenalty(frequencyPenalty);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
