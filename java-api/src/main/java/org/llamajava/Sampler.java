package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import org.llamajava.bindings.llama_sampler;
import org.llamajava.bindings.llama_sampler_chain_params;

/**
 * Chooses the next token from a {@link Context}'s logits, through llama.cpp's sampler chain.
 *
 * <p>{@link #greedy()} always takes the most likely token. {@link #builder()} builds the usual
 * chain: top-k, top-p, min-p, temperature, then a seeded random draw; a temperature of 0 or less
 * makes it greedy. The same seed gives the same tokens. A Sampler keeps state (e.g. its random
 * generator), so use one per generation stream and close it when done.
 */
public final class Sampler implements AutoCloseable {
    /** Seed value that asks llama.cpp for a random seed. */
    public static final int RANDOM_SEED = LLAMA_DEFAULT_SEED;

    private final State state;
    private final Cleaner.Cleanable cleanable;

    private Sampler(llama_sampler chain) {
        this.state = new State(chain);
        this.cleanable = state.register(this);
    }

    /** A sampler that always picks the most likely token. */
    public static Sampler greedy() {
        Llama.init();
        llama_sampler chain = newChain();
        llama_sampler_chain_add(chain, llama_sampler_init_greedy());
        return new Sampler(chain);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Picks the next token from the context's last logits, and records it in the sampler's state. */
    public int sample(Context context) {
        return context.sample(handle());
    }

    /** Clears the sampler's state (e.g. penalty history); the random generator is reseeded. */
    public void reset() {
        llama_sampler_reset(handle());
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

    private static llama_sampler newChain() {
        try (llama_sampler_chain_params p = llama_sampler_chain_default_params()) {
            p.no_perf(true);
            return llama_sampler_chain_init(p);
        }
    }

    private static final class State extends NativeState {
        final llama_sampler chain;

        State(llama_sampler chain) {
            this.chain = chain;
        }

        @Override
        protected void free() {
            llama_sampler_free(chain);
        }
    }

    /** Builder for a sampler chain: top-k, top-p, min-p, temperature, then dist(seed). */
    public static final class Builder {
        private float temperature = 0.8f;
        private int topK = 40;
        private float topP = 0.95f;
        private float minP = 0.05f;
        private int seed = RANDOM_SEED;

        private Builder() {}

        /** Temperature; 0 or less means greedy. */
        public Builder temperature(float v) {
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                throw new IllegalArgumentException("temperature must be finite; got " + v);
            }
            this.temperature = v;
            return this;
        }

        /** Keep the k most likely tokens; 0 or less disables. */
        public Builder topK(int v) {
            this.topK = v;
            return this;
        }

        /** Nucleus sampling probability in (0, 1]; 1 disables. */
        public Builder topP(float v) {
            if (!(v > 0 && v <= 1)) {
                throw new IllegalArgumentException("topP must be in (0, 1]; got " + v);
            }
            this.topP = v;
            return this;
        }

        /** Minimum probability relative to the most likely token, in [0, 1); 0 disables. */
        public Builder minP(float v) {
            if (!(v >= 0 && v < 1)) {
                throw new IllegalArgumentException("minP must be in [0, 1); got " + v);
            }
            this.minP = v;
            return this;
        }

        /** Seed of the random draw; {@link #RANDOM_SEED} for a random one. */
        public Builder seed(int v) {
            this.seed = v;
            return this;
        }

        public Sampler build() {
            Llama.init();
            llama_sampler chain = newChain();
            if (temperature <= 0) {
                llama_sampler_chain_add(chain, llama_sampler_init_greedy());
                return new Sampler(chain);
            }
            if (topK > 0) {
                llama_sampler_chain_add(chain, llama_sampler_init_top_k(topK));
            }
            if (topP < 1) {
                llama_sampler_chain_add(chain, llama_sampler_init_top_p(topP, 1));
            }
            if (minP > 0) {
                llama_sampler_chain_add(chain, llama_sampler_init_min_p(minP, 1));
            }
            llama_sampler_chain_add(chain, llama_sampler_init_temp(temperature));
            llama_sampler_chain_add(chain, llama_sampler_init_dist(seed));
            return new Sampler(chain);
        }
    }
}
