package org.llamajava.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llamajava.grammar.JsonSchema;

/**
 * {@code json-schema-to-grammar FILE|-}: prints the GBNF grammar llama.cpp's converter makes of a
 * JSON Schema (read from a file, or stdin for {@code -}), as llama.cpp's
 * {@code json_schema_to_grammar.py} does.
 */
final class JsonSchemaToGrammarCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(new String[][] {});
        if (args.positional().size() != 1) {
            throw new Args.UsageException("give one schema file, or - for stdin");
        }
        String source = args.positional().get(0);
        String text;
        try {
            text = source.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(Path.of(source), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + source + ": " + e.getMessage(), e);
        }
        out.print(JsonSchema.of(text).toGbnf());
        out.flush();
        return 0;
    }

    @Override
    public String usage() {
        return "FILE|-";
    }
}
