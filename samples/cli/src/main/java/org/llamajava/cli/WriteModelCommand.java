package org.llamajava.cli;

import java.nio.file.Path;
import java.util.List;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.gguf.VocabularySpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code write-model}: a llama GGUF with random weights in a real model's shape, for benchmarks
 * and tests (quantize it with llama.cpp's {@code llama-quantize}).
 */
@Command(name = "write-model", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a llama GGUF with random weights in a real model's shape (for benchmarks and tests).")
final class WriteModelCommand extends CliCommand {
    @Option(names = {"-o", "--output"}, paramLabel = "OUT.gguf", description = "the file to write")
    Path output;

    @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "tiny",
            description = "tiny, smol135m, llama1b or EMBD,LAYERS,HEADS,KV_HEADS,FF[,CTX] (default: tiny)")
    String shapeName;

    @Option(names = "--vocab-from", paramLabel = "GGUF", description = "take the vocabulary of this GGUF")
    Path vocabFrom;

    @Option(names = "--type", paramLabel = "f16|f32", defaultValue = "f16", description = "weight type (default: f16)")
    String typeName;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "42", description = "weights' seed (default: 42)")
    long seed;

    @Option(names = "--scale", paramLabel = "X", defaultValue = "1",
            description = "multiplies the weights' spread (default: 1, uniform in +-1/sqrt(fan-in)); larger values"
                    + " give peakier logits, so greedy text depends less on rounding")
    float scale;

    @Override
    protected int run() {
        if (output == null) {
            throw new UsageException("missing -o OUT.gguf");
        }
        ModelShape shape = shape(shapeName);
        GgmlType type = switch (typeName) {
            case "f16" -> GgmlType.F16;
            case "f32" -> GgmlType.F32;
            default -> throw new UsageException("--type must be f16 or f32 (quantize afterwards for others)");
        };
        VocabularySpec vocab = vocabFrom != null
                ? VocabularySpec.from(GgufFile.read(vocabFrom))
                : VocabularySpec.byteFallback(List.of("▁the", "▁a", "▁and", "e", "t", "a", "o", "i", "n", "s"));
        if (!(scale > 0) || Float.isInfinite(scale)) {
            throw new UsageException("--scale must be a positive number");
        }
        new LlamaModelWriter(shape, vocab).weightType(type).seed(seed).scale(scale).name("random " + shapeName).write(output);
        err.printf("wrote %s: %s, %d tokens, %s%n", output, shape, vocab.size(), type);
        return 0;
    }

    /** A named shape (tiny, smol135m, llama1b) or embd,layers,heads,kvHeads,ff[,ctx]. */
    static ModelShape shape(String s) {
        switch (s) {
            case "tiny":
                return ModelShape.tiny();
            case "smol135m":
                return ModelShape.smol135m();
            case "llama1b":
                return ModelShape.llama1b();
            default:
                String[] p = s.split(",");
                if (p.length < 5 || p.length > 6) {
                    throw new UsageException("--shape is tiny, smol135m, llama1b or EMBD,LAYERS,HEADS,KV_HEADS,FF[,CTX]");
                }
                try {
                    int[] v = java.util.Arrays.stream(p).mapToInt(x -> Integer.parseInt(x.strip())).toArray();
                    return new ModelShape(v[0], v[1], v[2], v[3], v[4], p.length == 6 ? v[5] : 2048);
                } catch (NumberFormatException e) {
                    throw new UsageException("--shape numbers must be integers: " + s);
                }
        }
    }

}
