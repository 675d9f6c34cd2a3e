package org.llamajava.cli;

import org.llamajava.SpeculationParams;
import picocli.CommandLine.Option;

/**
 * Speculative decoding, with llama.cpp's flag names: {@code -md/--model-draft FILE} (a draft model
 * of the same vocabulary), {@code --spec-type ngram-cache} or {@code --lookup} (draft-free n-gram
 * lookup, as llama-lookup), {@code --draft-max N}, {@code --draft-min N}, {@code --draft-p-min P},
 * {@code -td/--threads-draft N}. The output is the same as without them (greedy or seeded), only
 * faster when drafts are accepted.
 */
final class SpeculativeOptions {
    @Option(names = {"-md", "--model-draft", "--spec-draft-model"}, paramLabel = "MODEL",
            defaultValue = "${env:LLAMA_ARG_SPEC_DRAFT_MODEL}",
            description = "draft model for speculative decoding (as -m), with the model's vocabulary (env: LLAMA_ARG_SPEC_DRAFT_MODEL)")
    String draftModel;

    @Option(names = "--spec-type", paramLabel = "TYPE", defaultValue = "${env:LLAMA_ARG_SPEC_TYPE}",
            description = "draft-free speculative decoding: ngram-cache (n-gram lookup in the prompt and output,"
                    + " as llama-lookup); none (env: LLAMA_ARG_SPEC_TYPE)")
    String specType;

    @Option(names = "--lookup", description = "n-gram lookup decoding (the same as --spec-type ngram-cache)")
    boolean lookup;

    @Option(names = {"--spec-draft-n-max", "--draft-max", "--draft-n", "--draft"}, paramLabel = "N",
            description = "most tokens drafted per step (default: 16)")
    Integer draftMax;

    @Option(names = {"--spec-draft-n-min", "--draft-min", "--draft-n-min"}, paramLabel = "N",
            description = "fewest drafted tokens worth verifying (default: 0)")
    Integer draftMin;

    @Option(names = {"--spec-draft-p-min", "--draft-p-min"}, paramLabel = "P",
            description = "a draft model stops drafting below this probability (default: 0.75)")
    Float draftPMin;

    @Option(names = {"-td", "--threads-draft", "--spec-draft-threads"}, paramLabel = "N",
            description = "threads of the draft model's context (default: as --threads)")
    Integer draftThreads;

    /** Whether n-gram lookup was asked for (checked). */
    boolean ngram() {
        if (specType == null || specType.isBlank() || specType.equals("none")) {
            return lookup;
        }
        if (!specType.equals("ngram-cache")) {
            throw new UsageException("--spec-type " + specType + " is not supported; use ngram-cache (n-gram lookup)"
                    + " or -md FILE (a draft model)");
        }
        return true;
    }

    /** Whether any speculation was asked for; checks the flags. */
    boolean enabled() {
        boolean ngram = ngram();
        if (ngram && draftModel != null) {
            throw new UsageException("choose one of -md (a draft model) and --lookup/--spec-type ngram-cache");
        }
        boolean on = ngram || draftModel != null;
        if (!on && (draftMax != null || draftMin != null || draftPMin != null || draftThreads != null)) {
            throw new UsageException("--draft-max, --draft-min, --draft-p-min and -td need -md FILE or --lookup");
        }
        if (on) {
            params();
        }
        return on;
    }

    /** The drafting parameters, checked. */
    SpeculationParams params() {
        SpeculationParams.Builder b = SpeculationParams.builder();
        if (draftMax != null) {
            b.draftMax(draftMax);
        }
        if (draftMin != null) {
            b.draftMin(draftMin);
        }
        if (draftPMin != null) {
            b.pMin(draftPMin);
        }
        if (draftThreads != null) {
            b.draftThreads(draftThreads);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Prints what was drafted and accepted, as llama.cpp's tools report it. */
    static String report(org.llamajava.Completion c) {
        return String.format("drafted %d, accepted %d (%.1f%%)", c.draftedTokens(), c.acceptedTokens(),
                c.draftedTokens() == 0 ? 0.0 : 100.0 * c.acceptedTokens() / c.draftedTokens());
    }

}
