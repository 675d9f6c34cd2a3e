package org.llamajava.cli;

import java.nio.file.Path;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.SamplingSettings;
import org.llamajava.grammar.Grammar;
import org.llamajava.grammar.JsonSchema;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The sampling flags that {@code generate} and {@code chat} share, with llama.cpp's names and
 * environment variables, over the defaults every front end shares ({@link SamplingSettings}): {@code -n}, the sampler
 * flags ({@link SamplerFlags}: {@code --temp}, {@code -s/--seed}, {@code --top-k}, {@code --top-p}, {@code --min-p},
 * the penalties), and one of {@code --grammar},
 * {@code --grammar-file}, {@code -j/--json-schema}, {@code -jf/--json-schema-file}. Every value is
 * checked by {@link #check()}, before any model is loaded.
 */
final class SamplingOptions {
    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "${env:LLAMA_ARG_N_PREDICT}",
            description = "tokens to generate (per reply in chat; env: LLAMA_ARG_N_PREDICT)")
    Integer maxTokens;

    @Mixin
    SamplerFlags sampler;

    @Option(names = "--grammar", paramLabel = "GBNF", description = "constrain the output with a GBNF grammar")
    String grammarText;

    @Option(names = "--grammar-file", paramLabel = "FILE", description = "a GBNF grammar from a file")
    Path grammarFile;

    @Option(names = {"-j", "--json-schema"}, paramLabel = "SCHEMA", description = "constrain the output to JSON of this schema")
    String jsonSchema;

    @Option(names = {"-jf", "--json-schema-file"}, paramLabel = "FILE", description = "a JSON Schema from a file")
    Path jsonSchemaFile;

    private Grammar grammar;
    private boolean checked;

    /** Checks every value and reads the grammar; usage errors for malformed values. */
    void check() {
        if (checked) {
            return;
        }
        if (maxTokens != null && maxTokens < 0) {
            throw new UsageException("-n must be >= 0");
        }
        sampler.settings(); // checks the sampler flags
        String given = null;
        for (String[] f : new String[][] {{"--grammar", grammarText}, {"--grammar-file", str(grammarFile)},
                {"-j", jsonSchema}, {"-jf", str(jsonSchemaFile)}}) {
            if (f[1] != null) {
                if (given != null) {
                    throw new UsageException(given + " and " + f[0] + " both give a grammar: use one");
                }
                given = f[0];
            }
        }
        if (grammarText != null) {
            grammar = Grammar.gbnf(grammarText);
        } else if (grammarFile != null) {
            grammar = Grammar.fromFile(grammarFile);
        } else if (jsonSchema != null) {
            grammar = JsonSchema.of(jsonSchema).toGrammar();
        } else if (jsonSchemaFile != null) {
            grammar = JsonSchema.fromFile(jsonSchemaFile).toGrammar();
        }
        checked = true;
    }

    private static String str(Path p) {
        return p == null ? null : p.toString();
    }

    /** {@code -n}, or {@code def} when not given. */
    int maxTokens(int def) {
        check();
        return maxTokens == null ? def : maxTokens;
    }

    /** The grammar of the grammar flags, or null. */
    Grammar grammar() {
        check();
        return grammar;
    }

    /** The flags over llama-java's (llama-server's) sampling defaults, {@link SamplingSettings}. */
    SamplingSettings settings() {
        check();
        return sampler.settings();
    }

    /** The sampler chain of {@link #settings()}, without the grammar. */
    Sampler.Builder samplerSettings() {
        return settings().samplerBuilder();
    }

    /** A new sampler chain for this model, with the grammar flags' grammar if any; the caller closes it. */
    Sampler sampler(Model model) {
        Sampler.Builder b = samplerSettings();
        if (grammar() != null) {
            b.grammar(grammar);
        }
        return b.build(model);
    }
}
