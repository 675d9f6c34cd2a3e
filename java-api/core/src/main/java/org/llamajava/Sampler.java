package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.llama_logit_bias;
import org.llamajava.bindings.llama_sampler;
import org.llamajava.bindings.llama_sampler_chain_params;
import org.llamajava.grammar.Grammar;
import org.llamajava.internal.NativeState;
import org.llamajava.internal.NativeStrings;

/**
 * Chooses the next token from a context's logits, through llama.cpp's sampler chain.
 *
 * <p>{@link #greedy()} always takes the most likely token. {@link #builder()} builds a chain in
 * the order its methods are called, ending in a selecting stage ({@link Builder#dist(int)},
 * {@link Builder#greedy()}, {@link Builder#mirostat} or {@link Builder#mirostatV2}); without one,
 * {@code dist} with the builder's {@link Builder#seed} ends it. The same seed gives the same
 * tokens. A temperature of 0 or less keeps only the most likely token, so the chain is then
 * greedy.
 *
 * <p>A Sampler keeps state (its random generator, the penalties' history), so use one per
 * generation stream and close it when done.
 *
 * <pre>{@code
 * Sampler s = Sampler.builder().penalties(64, 1.1f, 0f, 0f).topK(40).topP(0.95f).minP(0.05f)
 *         .temperature(0.8f).dist(42).build(model);
 * }</pre>
 */
public final class Sampler implements AutoCloseable {
    /** Seed value that asks llama.cpp for a random seed. */
    public static final int RANDOM_SEED = LLAMA_DEFAULT_SEED;

    private final State state;
    private final Cleaner.Cleanable cleanable;

    private Sampler(llama_sampler chain, llama_sampler grammar, int[] prefill) {
        this.state = new State(chain, grammar, prefill);
        this.cleanable = state.register(this);
    }

    /** A sampler that always picks the most likely token. */
    public static Sampler greedy() {
        return builder().greedy().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Picks the next token from the context's last logits, and records it in the sampler's state.
     *
     * @return the token, or {@link Vocabulary#NO_TOKEN} if the sampler's grammar allows no token
     */
    public int sample(Context context) {
        return context.sampleCurrent(this);
    }

    /**
     * Clears the sampler's state (e.g. penalty history); the random generator is reseeded, and a
     * grammar starts again from its root (having consumed its prefill).
     */
    public void reset() {
        try {
            llama_sampler_reset(handle());
            if (state.grammar != null) {
                llama_sampler_reset(state.grammar);
                GrammarStage.prefill(state.grammar, state.prefill);
            }
        } finally {
            Reference.reachabilityFence(this); // not freed by the Cleaner during the native call
        }
    }

    /**
     * The names llama.cpp gives the stages of the native chain, in order (for example
     * {@code [top-k, top-p, min-p, temp, dist]}); a grammar is sampled apart and not among them.
     */
    public List<String> stageNames() {
        try {
            llama_sampler chain = handle();
            int n = llama_sampler_chain_n(chain);
            List<String> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(NativeStrings.utf8(llama_sampler_name(llama_sampler_chain_get(chain, i))));
            }
            return List.copyOf(out);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether this sampler has a grammar stage ({@link Builder#grammar}). */
    public boolean hasGrammar() {
        return state.grammar != null;
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    llama_sampler handle() {
        if (state.isFreed()) {
            throw new IllegalStateException("Sampler is closed");
        }
        return state.chain;
    }

    /** The grammar stage, sampled apart from the chain (see {@link Builder#grammar}), or null. */
    llama_sampler grammarHandle() {
        return state.grammar;
    }

    private static final class State extends NativeState {
        final llama_sampler chain;
        final llama_sampler grammar;
        final int[] prefill;

        State(llama_sampler chain, llama_sampler grammar, int[] prefill) {
            this.chain = chain;
            this.grammar = grammar;
            this.prefill = prefill;
        }

        @Override
        protected void free() {
            llama_sampler_free(chain);
            if (grammar != null) {
                llama_sampler_free(grammar);
            }
        }
    }

    /** Builds a sampler chain; stages run in the order they are added. */
    public static final class Builder {
        private final List<BiFunction<Builder, Vocabulary, llama_sampler>> stages = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final Map<Integer, Float> biases = new LinkedHashMap<>();
        private boolean selected;
        private int seed = RANDOM_SEED;
        private Grammar grammar;
        private ReasoningBudget budget;

        private Builder() {}

        /**
         * A builder with the same stages, seed, grammar and reasoning budget, to extend or build independently
         * (e.g. the same settings with each chat turn's own grammar).
         */
        public Builder copy() {
            Builder b = new Builder();
            b.stages.addAll(stages);
            b.names.addAll(names);
            b.biases.putAll(biases);
            b.selected = selected;
            b.seed = seed;
            b.grammar = grammar;
            b.budget = budget;
            return b;
        }

        /**
         * Constrains sampling to what the grammar allows (replacing any grammar given before). As
         * llama.cpp's common sampler does, the grammar is not a stage of the chain: the chain picks
         * a token, and only if the grammar rejects it is the grammar applied to every candidate and
         * the chain run again; so the grammar costs little when the model already follows it, and
         * the tokens equal llama.cpp's for the same chain and seed. Needs {@link #build(Model)}.
         *
         * @throws IllegalArgumentException (at build) if a {@code <token>} of the grammar is not one
         *     token of the model's vocabulary, or the grammar does not accept its prefill
         */
        public Builder grammar(Grammar g) {
            if (g == null) {
                throw new IllegalArgumentException("grammar is null");
            }
            this.grammar = g;
            return this;
        }

        private Builder add(String name, Function<Vocabulary, llama_sampler> stage) {
            return add(name, (b, v) -> stage.apply(v));
        }

        private Builder add(String name, BiFunction<Builder, Vocabulary, llama_sampler> stage) {
            if (selected) {
                throw new IllegalStateException(name + " after the selecting stage " + names.get(names.size() - 1)
                        + ": a selecting stage (dist, greedy, mirostat) must come last");
            }
            names.add(name);
            stages.add(stage);
            return this;
        }

        private Builder select(String name, Function<Vocabulary, llama_sampler> stage) {
            add(name, stage);
            selected = true;
            return this;
        }

        private static Vocabulary need(Vocabulary v, String stage) {
            if (v == null) {
                throw new IllegalStateException(stage + " needs the model's vocabulary: use build(model)");
            }
            return v;
        }

        /**
         * Limits reasoning as llama.cpp's reasoning budget sampler does (see {@link ReasoningBudget}),
         * replacing any budget given before: a stage, always the first of the chain wherever this
         * is called, that once the budget is spent inside the reasoning block lets only the forced
         * message and end tag through. With a {@link #grammar} the grammar still decides: a forced
         * token it rejects ends generation with {@link FinishReason#GRAMMAR_REJECTED}; a lazy
         * grammar is not paused while the model reasons, as llama.cpp's common sampler pauses it.
         * Needs {@link #build(Model)}.
         *
         * @throws IllegalArgumentException (at build) if a tag is no token at all in the vocabulary
         */
        public Builder reasoningBudget(ReasoningBudget budget) {
            if (budget == null) {
                throw new IllegalArgumentException("reasoning budget is null");
            }
            this.budget = budget;
            return this;
        }

        /** Seed for the final random draw when no selecting stage is given. */
        public Builder seed(int v) {
            this.seed = v;
            return this;
        }

        /** Keeps the k most likely tokens (sorted by probability); k <= 0 does nothing, and k above the vocabulary size keeps all. */
        public Builder topK(int k) {
            return add("top-k", v -> llama_sampler_init_top_k(k));
        }

        /** Keeps the most likely tokens whose probabilities add up to p, in (0, 1]. */
        public Builder topP(float p) {
            range("topP", p, 0, false, 1, true);
            return add("top-p", v -> llama_sampler_init_top_p(p, 1));
        }

        /** Drops tokens less likely than p times the most likely one; p in [0, 1). */
        public Builder minP(float p) {
            range("minP", p, 0, true, 1, false);
            return add("min-p", v -> llama_sampler_init_min_p(p, 1));
        }

        /** Locally typical sampling with mass p, in (0, 1]. */
        public Builder typical(float p) {
            range("typical", p, 0, false, 1, true);
            return add("typical", v -> llama_sampler_init_typical(p, 1));
        }

        /** Temperature; 0 or less keeps only the most likely token. */
        public Builder temperature(float t) {
            finite("temperature", t);
            return add("temperature", v -> llama_sampler_init_temp(t));
        }

        /** Dynamic temperature: t ± delta, scaled by entropy with this exponent. */
        public Builder dynamicTemperature(float t, float delta, float exponent) {
            finite("temperature", t);
            finite("delta", delta);
            finite("exponent", exponent);
            return add("dynamic temperature", v -> llama_sampler_init_temp_ext(t, delta, exponent));
        }

        /** XTC: with probability p, drops the most likely tokens above threshold t (keeping the last). */
        public Builder xtc(float p, float t, int seed) {
            range("xtc probability", p, 0, true, 1, true);
            range("xtc threshold", t, 0, true, 1, true);
            return add("xtc", v -> llama_sampler_init_xtc(p, t, 1, seed));
        }

        /** Keeps tokens within n standard deviations of the top logit; n > 0. */
        public Builder topNSigma(float n) {
            if (!(n > 0) || Float.isInfinite(n)) {
                throw new IllegalArgumentException("topNSigma must be positive; got " + n);
            }
            return add("top-n-sigma", v -> llama_sampler_init_top_n_sigma(n));
        }

        /**
         * Repetition, frequency and presence penalties over the last {@code lastN} sampled tokens
         * (0: off). A repeat penalty of 1 and zero frequency/presence penalties change nothing.
         * Needs {@link #build(Model)}.
         */
        public Builder penalties(int lastN, float repeat, float frequency, float presence) {
            if (lastN < 0) {
                throw new IllegalArgumentException("lastN must be >= 0; got " + lastN);
            }
            if (!(repeat > 0) || Float.isInfinite(repeat)) {
                throw new IllegalArgumentException("repeat penalty must be > 0 (1 = off); got " + repeat);
            }
            finite("frequency penalty", frequency);
            finite("presence penalty", presence);
            return add("penalties", v -> llama_sampler_init_penalties(need(v, "penalties").size(), lastN, repeat,
                    frequency, presence));
        }

        /**
         * DRY ("don't repeat yourself"): penalises extending repeated sequences longer than
         * {@code allowedLength}, by multiplier × base^(length − allowed), over the last
         * {@code lastN} tokens (0: off), with these sequence breakers. Needs
         * {@link #build(Model)}.
         */
        public Builder dry(float multiplier, float base, int allowedLength, int lastN, List<String> breakers) {
            finite("dry multiplier", multiplier);
            finite("dry base", base);
            List<String> b = List.copyOf(breakers);
            return add("dry", v -> {
                Vocabulary voc = need(v, "dry");
                PointerPointer<BytePointer> arr = new PointerPointer<>(b.size());
                List<BytePointer> held = new ArrayList<>();
                try {
                    for (int i = 0; i < b.size(); i++) {
                        BytePointer s = new BytePointer(b.get(i), java.nio.charset.StandardCharsets.UTF_8);
                        held.add(s);
                        arr.put(i, s);
                    }
                    return llama_sampler_init_dry(voc.nativeVocab(), multiplier, base, allowedLength, lastN, arr,
                            b.size());
                } finally {
                    held.forEach(BytePointer::close);
                    arr.close();
                }
            });
        }

        /**
         * Adds {@code bias} to a token's logit; {@code Float.NEGATIVE_INFINITY} bans it. Biases
         * are applied where this is first called. Needs {@link #build(Model)}.
         */
        public Builder logitBias(int token, float bias) {
            if (Float.isNaN(bias) || bias == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("bias must be a number or -infinity; got " + bias);
            }
            if (biases.isEmpty()) {
                add("logit bias", (Builder self, Vocabulary v) -> {
                    Vocabulary voc = need(v, "logit bias");
                    Map<Integer, Float> biases = self.biases;
                    llama_logit_bias arr = new llama_logit_bias(biases.size());
                    int i = 0;
                    for (Map.Entry<Integer, Float> e : biases.entrySet()) {
                        voc.checkToken(e.getKey());
                        arr.position(i++).token(e.getKey()).bias(e.getValue());
                    }
                    arr.position(0);
                    try {
                        return llama_sampler_init_logit_bias(voc.size(), biases.size(), arr);
                    } finally {
                        arr.close();
                    }
                });
            }
            biases.put(token, bias);
            return this;
        }

        /** Ends the chain: the most likely token. */
        public Builder greedy() {
            return select("greedy", v -> llama_sampler_init_greedy());
        }

        /** Ends the chain: a random draw from the remaining distribution. */
        public Builder dist(int seed) {
            return select("dist", v -> llama_sampler_init_dist(seed));
        }

        /** Ends the chain: Mirostat v1 with target surprise tau, learning rate eta, m tokens. Needs {@link #build(Model)}. */
        public Builder mirostat(float tau, float eta, int m, int seed) {
            finite("tau", tau);
            finite("eta", eta);
            return select("mirostat", v -> llama_sampler_init_mirostat(need(v, "mirostat").size(), seed, tau, eta, m));
        }

        /** Ends the chain: Mirostat v2 with target surprise tau and learning rate eta. */
        public Builder mirostatV2(float tau, float eta, int seed) {
            finite("tau", tau);
            finite("eta", eta);
            return select("mirostat v2", v -> llama_sampler_init_mirostat_v2(seed, tau, eta));
        }

        /** Builds a chain that needs no vocabulary (no DRY, logit bias or Mirostat v1). */
        public Sampler build() {
            return build((Vocabulary) null);
        }

        /** Builds the chain for this model. */
        public Sampler build(Model model) {
            return build(model.vocabulary());
        }

        private Sampler build(Vocabulary vocab) {
            Llama.init();
            if (!selected) {
                dist(seed);
            }
            llama_sampler g = null;
            int[] prefill = new int[0];
            if (grammar != null) {
                Vocabulary voc = need(vocab, "grammar");
                prefill = GrammarStage.prefillTokens(voc, grammar);
                g = GrammarStage.create(voc, grammar, prefill);
            }
            llama_sampler chain;
            try (llama_sampler_chain_params p = llama_sampler_chain_default_params()) {
                p.no_perf(true);
                chain = llama_sampler_chain_init(p);
            }
            try {
                if (budget != null) {
                    llama_sampler_chain_add(chain, ReasoningBudgetStage.create(need(vocab, "reasoning budget"), budget));
                }
                for (BiFunction<Builder, Vocabulary, llama_sampler> stage : stages) {
                    llama_sampler s = stage.apply(this, vocab);
                    if (s == null || s.isNull()) {
                        throw new LlamaException("llama.cpp could not create a sampler stage");
                    }
                    llama_sampler_chain_add(chain, s);
                }
            } catch (RuntimeException e) {
                llama_sampler_free(chain);
                if (g != null) {
                    llama_sampler_free(g);
                }
                throw e;
            }
            return new Sampler(chain, g, prefill);
        }

        private static void finite(String name, float v) {
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                throw new IllegalArgumentException(name + " must be finite; got " + v);
            }
        }

        private static void range(String name, float v, float lo, boolean loIn, float hi, boolean hiIn) {
            boolean ok = (loIn ? v >= lo : v > lo) && (hiIn ? v <= hi : v < hi);
            if (!ok) {
                throw new IllegalArgumentException(name + " must be in " + (loIn ? "[" : "(") + lo + ", " + hi
                        + (hiIn ? "]" : ")") + "; got " + v);
            }
        }
    }
}
