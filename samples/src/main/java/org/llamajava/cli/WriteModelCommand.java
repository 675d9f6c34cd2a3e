package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.llamajava.gguf.GgmlType;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.gguf.VocabularySpec;

/**
 * {@code write-model}: a llama GGUF with random weights in a real model's shape, for benchmarks
 * and tests (quantize it with llama.cpp's {@code llama-quantize}).
 */
final class WriteModelCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(new String[][] {{"-o", "--output"}, {"--shape"}, {"--vocab-from"}, {"--type"}, {"--seed"}});
        Path output = Path.of(args.require("-o", "OUT.gguf"));
        ModelShape shape = shape(args.get("--shape") == null ? "tiny" : args.get("--shape"));
        VocabularySpec vocab = args.get("--vocab-from") != null
                ? VocabularySpec.from(GgufFile.read(Path.of(args.get("--vocab-from"))))
                : VocabularySpec.byteFallback(List.of("▁the", "▁a", "▁and", "e", "t", "a", "o", "i", "n", "s"));
        GgmlType type = switch (args.get("--type") == null ? "f16" : args.get("--type")) {
            case "f16" -> GgmlType.F16;
            case "f32" -> GgmlType.F32;
            default -> throw new Args.UsageException("--type must be f16 or f32 (quantize afterwards for others)");
        };
        new LlamaModelWriter(shape, vocab).weightType(type).seed(args.getLong("--seed", 42))
                .name("random " + (args.get("--shape") == null ? "tiny" : args.get("--shape"))).write(output);
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
                    throw new Args.UsageException("--shape is tiny, smol135m, llama1b or EMBD,LAYERS,HEADS,KV_HEADS,FF[,CTX]");
                }
                try {
                    int[] v = java.util.Arrays.stream(p).mapToInt(x -> Integer.parseInt(x.strip())).toArray();
                    return new ModelShape(v[0], v[1], v[2], v[3], v[4], p.length == 6 ? v[5] : 2048);
                } catch (NumberFormatException e) {
                    throw new Args.UsageException("--shape numbers must be integers: " + s);
                }
        }
    }

    @Override
    public String usage() {
        return "-o OUT.gguf [--shape tiny|smol135m|llama1b|EMBD,LAYERS,HEADS,KV_HEADS,FF[,CTX]] [--vocab-from GGUF]"
                + " [--type f16|f32] [--seed S]";
    }
}
