package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.llamajava.QuantizationType;
import org.llamajava.Quantizer;

/**
 * {@code quantize}: llama-quantize through {@link Quantizer}, with its flag names and positional
 * arguments ({@code IN OUT TYPE [THREADS]}); the output is byte-identical to llama-quantize's.
 */
final class QuantizeCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(new String[][] {{"--imatrix"}, {"--output-tensor-type"}, {"--token-embedding-type"}},
                "--allow-requantize", "--leave-output-tensor", "--pure", "--keep-split");
        List<String> pos = args.positional();
        if (pos.size() < 3 || pos.size() > 4) {
            throw new Args.UsageException("expected IN OUT TYPE [THREADS]");
        }
        QuantizationType type;
        try {
            type = QuantizationType.parse(pos.get(2));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
        int threads = 0;
        if (pos.size() == 4) {
            try {
                threads = Integer.parseInt(pos.get(3));
            } catch (NumberFormatException e) {
                throw new Args.UsageException("THREADS must be an integer, not '" + pos.get(3) + "'");
            }
            if (threads < 0) {
                throw new Args.UsageException("THREADS must be >= 0 (0: all cores)");
            }
        }
        Quantizer.Builder b = Quantizer.builder(type).threads(threads)
                .allowRequantize(args.has("--allow-requantize")).leaveOutputTensor(args.has("--leave-output-tensor"))
                .pure(args.has("--pure")).keepSplit(args.has("--keep-split"));
        try {
            if (args.get("--output-tensor-type") != null) {
                b.outputTensorType(args.get("--output-tensor-type"));
            }
            if (args.get("--token-embedding-type") != null) {
                b.tokenEmbeddingType(args.get("--token-embedding-type"));
            }
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
        if (args.get("--imatrix") != null) {
            b.importanceMatrix(Path.of(args.get("--imatrix")));
        }
        Path in = Path.of(pos.get(0));
        List<Path> written = b.build().quantize(in, Path.of(pos.get(1)));
        long bytes = 0;
        for (Path p : written) {
            try {
                bytes += Files.size(p);
            } catch (java.io.IOException e) {
                // reported below without the size
            }
        }
        err.printf("quantized %s to %s as %s (%.2f MiB)%n", in, written.size() == 1 ? written.get(0) : written,
                type, bytes / 1048576.0);
        return 0;
    }

    @Override
    public String usage() {
        return "[--allow-requantize] [--leave-output-tensor] [--pure] [--imatrix FILE] [--output-tensor-type TYPE]"
                + " [--token-embedding-type TYPE] [--keep-split] IN OUT TYPE [THREADS]  (TYPE as llama-quantize's: Q8_0, Q4_0, Q4_K_M, ...)";
    }
}
