package org.llamajava.cli;

import java.util.Arrays;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tokenize -m MODEL -p TEXT [--no-bos] [--no-parse-special]}: ids as llama-tokenize --ids prints them. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Print the token ids of a text, as llama-tokenize --ids does.")
final class TokenizeCommand extends CliCommand {
    @Mixin
    ModelOption model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the text (with \\n, \\t, \\xHH escapes)")
    String text;

    @Option(names = "--no-bos", description = "do not add the BOS token")
    boolean noBos;

    @Option(names = "--no-parse-special", description = "tokenize special tokens' text as plain text")
    boolean noParseSpecial;

    @Option(names = "--ids", description = "print ids only (the only output format; accepted for llama-tokenize's sake)")
    boolean ids;

    @Option(names = "--no-escape", description = "take the text as written, without escapes")
    boolean noEscape;

    @Override
    protected int run() {
        if (!model.given()) {
            throw new UsageException("missing -m MODEL");
        }
        if (text == null) {
            throw new UsageException("missing -p TEXT");
        }
        String t = noEscape ? text : Escapes.process(text);
        try (Model m = Model.load(model.path(this), ModelParams.builder().vocabOnly(true).build())) {
            int[] tokens = m.vocabulary().tokenize(t, !noBos, !noParseSpecial);
            out.println(Arrays.toString(tokens));
        }
        return 0;
    }
}
