package org.llamajava;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sampling settings every llama-java front end (the CLI, the server, the LangChain4j and
 * Spring AI adapters) maps its options onto, with llama-server's defaults, so that the same request
 * samples the same way through each of them. {@link #samplerBuilder()} builds llama.cpp's chain
 * from them in llama-server's order: logit biases, penalties, top-k, top-p, min-p, temperature and
 * the seeded draw; a temperature of 0 or less (or a top-p of 0) is greedy.
 *
 * <table>
 *   <caption>Defaults (llama-server's)</caption>
 *   <tr><th>setting</th><th>default</th><th>off</th></tr>
 *   <tr><td>temperature</td><td>0.8</td><td>&lt;= 0: greedy</td></tr>
 *   <tr><td>top-k</td><td>40</td><td>0</td></tr>
 *   <tr><td>top-p</td><td>0.95</td><td>1</td></tr>
 *   <tr><td>min-p</td><td>0.05</td><td>0</td></tr>
 *   <tr><td>repeat penalty</td><td>1 (off), over the last 64 tokens</td><td>1</td></tr>
 *   <tr><td>frequency and presence penalties</td><td>0 (off)</td><td>0</td></tr>
 *   <tr><td>logit biases</td><td>none</td><td></td></tr>
 *   <tr><td>seed</td><td>random ({@link #RANDOM_SEED})</td><td></td></tr>
 * </table>
 *
 * @param temperature      sampling temperature; 0 or less samples greedily
 * @param topK             most likely tokens kept; 0 keeps all
 * @param topP             nucleus mass kept; 1 keeps all
 * @param minP             minimum probability relative to the most likely token; 0 is off
 * @param penaltyLastN     tokens the penalties look back over
 * @param repeatPenalty    llama.cpp's repetition penalty; 1 is off
 * @param frequencyPenalty OpenAI's frequency penalty; 0 is off
 * @param presencePenalty  OpenAI's presence penalty; 0 is off
 * @param logitBias        token id to the bias added to its logit at every step
 * @param seed             the draw's seed, or {@link #RANDOM_SEED}. llama.cpp's seeds are 32-bit:
 *                         the low 32 bits are used (so a seed whose low 32 bits are all ones is
 *                         random too, as in llama.cpp)
 */
public record SamplingSettings(float temperature, int topK, float topP, float minP, int penaltyLastN,
                               float repeatPenalty, float frequencyPenalty, float presencePenalty,
                               Map<Integer, Float> logitBias, long seed) {

    /** The seed that asks for a random one (llama.cpp's {@code LLAMA_DEFAULT_SEED}). */
    public static final long RANDOM_SEED = -1L;

    private static final SamplingSettings DEFAULTS = new SamplingSettings(0.8f, 40, 0.95f, 0.05f, 64, 1f, 0f, 0f,
            Map.of(), RANDOM_SEED);

    public SamplingSettings {
        finite("temperature", temperature);
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 keeps every token); got " + topK);
        }
        if (!(topP >= 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in [0, 1]; got " + topP);
        }
        if (!(minP >= 0 && minP < 1)) {
            throw new IllegalArgumentException("minP must be in [0, 1); got " + minP);
        }
        if (penaltyLastN < -1) {
            throw new IllegalArgumentException("penaltyLastN must be >= -1 (-1: the whole context); got " + penaltyLastN);
        }
        finite("repeatPenalty", repeatPenalty);
        if (repeatPenalty <= 0) {
            throw new IllegalArgumentException("repeatPenalty must be > 0 (1 is off); got " + repeatPenalty);
        }
        finite("frequencyPenalty", frequencyPenalty);
        finite("presencePenalty", presencePenalty);
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            if (e.getKey() < 0) {
                throw new IllegalArgumentException("logit bias for token " + e.getKey() + ": token ids are >= 0");
            }
            if (Float.isNaN(e.getValue())) {
                throw new IllegalArgumentException("logit bias for token " + e.getKey() + " is NaN");
            }
        }
    }

    private static void finite(String name, float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be a finite number; got " + v);
        }
    }

    /** llama-server's defaults (see the class documentation). */
    public static SamplingSettings defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return DEFAULTS.toBuilder();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** These settings with another seed. */
    public SamplingSettings withSeed(long seed) {
        return seed == this.seed ? this : toBuilder().seed(seed).build();
    }

    /** Whether the chain samples greedily: temperature 0 or less, or top-p 0 (llama-server's rule). */
    public boolean isGreedy() {
        return temperature <= 0 || topP == 0;
    }

    /** The seed as llama.cpp takes it: the low 32 bits, {@link Sampler#RANDOM_SEED} for a random one. */
    public int nativeSeed() {
        return (int) seed;
    }

    /**
     * llama.cpp's sampler chain for these settings, ending in its selecting stage; the caller may
     * add a grammar before building it. Stages that are off are left out.
     */
    public Sampler.Builder samplerBuilder() {
        Sampler.Builder b = Sampler.builder();
        logitBias.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> b.logitBias(e.getKey(), e.getValue()));
        if (repeatPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0) {
            b.penalties(penaltyLastN, repeatPenalty, frequencyPenalty, presencePenalty);
        }
        if (isGreedy()) {
            return b.greedy();
        }
        if (topK > 0) {
            b.topK(topK);
        }
        if (topP < 1) {
            b.topP(topP);
        }
        if (minP > 0) {
            b.minP(minP);
        }
        return b.temperature(temperature).dist(nativeSeed());
    }

    /** Builds {@link SamplingSettings}; every value is checked by {@link #build()}. */
    public static final class Builder {
        private float temperature;
        private int topK;
        private float topP;
        private float minP;
        private int penaltyLastN;
        private float repeatPenalty;
        private float frequencyPenalty;
        private float presencePenalty;
        private final Map<Integer, Float> logitBias;
        private long seed;

        private Builder(SamplingSettings s) {
            temperature = s.temperature;
            topK = s.topK;
            topP = s.topP;
            minP = s.minP;
            penaltyLastN = s.penaltyLastN;
            repeatPenalty = s.repeatPenalty;
            frequencyPenalty = s.frequencyPenalty;
            presencePenalty = s.presencePenalty;
            logitBias = new LinkedHashMap<>(s.logitBias);
            seed = s.seed;
        }

        /** Temperature (default 0.8); 0 or less samples greedily. */
        public Builder temperature(float v) { this.temperature = v; return this; }
        /** Most likely tokens kept (default 40); 0 keeps all. */
        public Builder topK(int v) { this.topK = v; return this; }
        /** Nucleus mass kept (default 0.95); 1 keeps all. */
        public Builder topP(float v) { this.topP = v; return this; }
        /** Minimum probability relative to the most likely token (default 0.05); 0 is off. */
        public Builder minP(float v) { this.minP = v; return this; }
        /** Tokens the penalties look back over (default 64). */
        public Builder penaltyLastN(int v) { this.penaltyLastN = v; return this; }
        /** llama.cpp's repetition penalty (default 1: off). */
        public Builder repeatPenalty(float v) { this.repeatPenalty = v; return this; }
        /** OpenAI's frequency penalty (default 0: off). */
        public Builder frequencyPenalty(float v) { this.frequencyPenalty = v; return this; }
        /** OpenAI's presence penalty (default 0: off). */
        public Builder presencePenalty(float v) { this.presencePenalty = v; return this; }
        /** Adds {@code bias} to the logit of {@code token} at every step; a large negative bias bans it. */
        public Builder logitBias(int token, float bias) { this.logitBias.put(token, bias); return this; }
        /** Replaces the logit biases. */
        public Builder logitBias(Map<Integer, Float> biases) {
            this.logitBias.clear();
            this.logitBias.putAll(biases);
            return this;
        }
        /** The draw's seed (default {@link #RANDOM_SEED}). */
        public Builder seed(long v) { this.seed = v; return this; }

        public SamplingSettings build() {
            return new SamplingSettings(temperature, topK, topP, minP, penaltyLastN, repeatPenalty, frequencyPenalty,
                    presencePenalty, logitBias, seed);
        }
    }
}
