package org.llamajava.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llamajava.grammar.JsonSchema;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code json-schema-to-grammar FILE|-}: prints the GBNF grammar llama.cpp's converter makes of a
 * JSON Schema (read from a file, or stdin for {@code -}), as llama.cpp's
 * {@code json_schema_to_grammar.py} does.
 */
@Command(name = "json-schema-to-grammar", mixinStandardHelpOptions = true,
        description = "Print the GBNF grammar llama.cpp's converter makes of a JSON Schema.")
final class JsonSchemaToGrammarCommand extends CliCommand {
    @Parameters(arity = "0..1", paramLabel = "FILE|-", description = "the schema file, or - for stdin")
    String source;

    @Override
    protected int run() {
        if (source == null) {
            throw new UsageException("give one schema file, or - for stdin");
        }
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

}
