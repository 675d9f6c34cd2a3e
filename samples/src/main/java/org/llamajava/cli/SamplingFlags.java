package org.llamajava.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.llamajava.ContextParams;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.Sampler;
import org.llamajava.grammar.Grammar;
import org.llamajava.grammar.JsonSchema;

/**
 * The sampling and context flags that {@code generate} and {@code chat} share, with llama.cpp's
 * names and defaults: {@code -n}, {@code --temp}, {@code --seed}, {@code --top-k}, {@code --top-p},
 * {@code --min-p}, {@code -t}, {@code -c}, {@code -b}, and {@code -ngl} (layers offloaded to a GPU;
 * default: all, as in llama.cpp's tools; no effect without a GPU). Every value is checked when the
 * flags are read, before any model is loaded.
 */
final class SamplingFlags {
    /** The flags, each with its aliases, for {@link Args#parse}. */
    private static final String[][] FLAGS = {{"-n", "--n-predict"}, {"--temp"}, {"--seed", "-s"},
            {"-t", "--threads"}, {"-c", "--ctx-size"}, {"--top-k"}, {"--top-p"}, {"--min-p"}, {"-b", "--batch-size"},
            {"-ngl", "--n-gpu-layers", "--gpu-layers"}, {"--grammar"}, {"--grammar-file"}, {"-j", "--json-schema"},
            {"-jf", "--json-schema-file"}};

    /** For usage lines. */
    static final String USAGE = "[-n N] [--temp T] [--seed S] [--top-k K] [--top-p P] [--min-p P] [-t THREADS] [-c CTX] [-ngl N]"
            + " [--grammar GBNF | --grammar-file FILE | -j SCHEMA | -jf SCHEMA_FILE]";

    private final int maxTokens;
    private final int gpuLayers;
    private final ContextParams.Builder context;
    private final int contextSize;
    private final Sampler.Builder sampler;
    private final Grammar grammar;

    private SamplingFlags(int maxTokens, int gpuLayers, ContextParams.Builder context, int contextSize,
            Sampler.Builder sampler, Grammar grammar) {
        this.maxTokens = maxTokens;
        this.gpuLayers = gpuLayers;
        this.context = context;
        this.contextSize = contextSize;
        this.sampler = sampler;
        this.grammar = grammar;
    }

    /** A command's own flags followed by these, for {@link Args#parse}. */
    static String[][] with(String[]... own) {
        return Stream.concat(Arrays.stream(own), Arrays.stream(FLAGS)).toArray(String[][]::new);
    }

    /**
     * Reads the flags from parsed arguments.
     *
     * @param defaultMaxTokens {@code -n}'s default
     * @throws Args.UsageException for a malformed value
     * @throws IllegalArgumentException for a value out of range (e.g. {@code --top-p 2})
     */
    static SamplingFlags read(Args args, int defaultMaxTokens) {
        int n = args.getInt("-n", defaultMaxTokens);
        if (n < 0) {
            throw new Args.UsageException("-n must be >= 0");
        }
        int gpuLayers = ModelParams.ALL_LAYERS;
        if (args.get("-ngl") != null) {
            gpuLayers = args.getInt("-ngl", 0);
            if (gpuLayers < 0) {
                throw new Args.UsageException("-ngl must be >= 0");
            }
        }
        float temp = args.getFloat("--temp", 0.8f);
        int seed = (int) args.getLong("--seed", Sampler.RANDOM_SEED & 0xFFFFFFFFL);
        ContextParams.Builder cp = ContextParams.builder();
        if (args.get("-t") != null) {
            cp.threads(args.getInt("-t", 1));
        }
        if (args.get("-b") != null) {
            int b = args.getInt("-b", 2048);
            cp.batchSize(b).ubatchSize(Math.min(512, b));
        }
        // llama.cpp's default order: top-k, top-p, min-p, temperature, then the seeded draw
        Sampler.Builder sb = Sampler.builder().topK(args.getInt("--top-k", 40))
                .topP(args.getFloat("--top-p", 0.95f)).minP(args.getFloat("--min-p", 0.05f))
                .temperature(temp).dist(seed);
        int ctxSize = args.getInt("-c", -1);
        return new SamplingFlags(n, gpuLayers, cp, ctxSize, sb, grammar(args));
    }

    /**
     * The grammar of {@code --grammar}, {@code --grammar-file}, {@code -j} or {@code -jf} (at most
     * one), checked now; null if none.
     */
    private static Grammar grammar(Args args) {
        String[] flags = {"--grammar", "--grammar-file", "-j", "-jf"};
        String given = null;
        for (String f : flags) {
            if (args.get(f) != null) {
                if (given != null) {
                    throw new Args.UsageException(given + " and " + f + " both give a grammar: use one");
                }
                given = f;
            }
        }
        if (given == null) {
            return null;
        }
        String v = args.get(given);
        return switch (given) {
            case "--grammar" -> Grammar.gbnf(v);
            case "--grammar-file" -> Grammar.fromFile(Path.of(v));
            case "-j" -> JsonSchema.of(v).toGrammar();
            default -> JsonSchema.fromFile(Path.of(v)).toGrammar();
        };
    }

    /** The grammar of the grammar flags, or null. */
    Grammar grammar() {
        return grammar;
    }

    /** The sampler settings (without the grammar), to build a sampler per turn from. */
    Sampler.Builder samplerSettings() {
        return sampler.copy();
    }

    /** {@code -n}: the most tokens to generate (per reply, in chat). */
    int maxTokens() {
        return maxTokens;
    }

    /** The model parameters these flags set ({@code -ngl}); the caller may add more. */
    ModelParams.Builder modelParams() {
        return ModelParams.builder().gpuLayers(gpuLayers);
    }

    /**
     * The context parameters for this model: {@code -c} if given, else like llama.cpp's tools
     * 4096 tokens, but no more than the model was trained for.
     */
    ContextParams contextParams(Model model) {
        return context.contextSize(contextSize >= 0 ? contextSize : Math.min(4096, model.trainingContextLength()))
                .build();
    }

    /** A new sampler chain for this model, with the grammar flags' grammar if any; the caller closes it. */
    Sampler sampler(Model model) {
        Sampler.Builder b = sampler.copy();
        if (grammar != null) {
            b.grammar(grammar);
        }
        return b.build(model);
    }
}
