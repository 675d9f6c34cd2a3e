package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import org.llamajava.Model;
import org.llamajava.ModelParams;

/** {@code tokenize -m MODEL -p TEXT [--no-bos] [--no-parse-special]}: ids as llama-tokenize --ids prints them. */
final class TokenizeCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(new String[][] {{"-m", "--model"}, {"-p", "--prompt"}}, "--no-bos", "--no-parse-special", "--ids",
                "--no-escape");
        Path model = Path.of(args.require("-m", "MODEL"));
        String text = args.require("-p", "TEXT");
        if (!args.has("--no-escape")) {
            text = Escapes.process(text);
        }
        try (Model m = Model.load(model, ModelParams.builder().vocabOnly(true).build())) {
            int[] ids = m.vocabulary().tokenize(text, !args.has("--no-bos"), !args.has("--no-parse-special"));
            out.println(Arrays.toString(ids));
        }
        return 0;
    }

    @Override
    public String usage() {
        return "-m MODEL -p TEXT [--no-bos] [--no-parse-special] [--no-escape]";
    }
}
