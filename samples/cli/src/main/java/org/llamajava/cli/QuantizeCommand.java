package org.llamajava.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.llamajava.quantize.QuantizationType;
import org.llamajava.quantize.QuantizeListener;
import org.llamajava.quantize.Quantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code quantize}: llama-quantize through {@link Quantizer}, with its flag names and positional
 * arguments ({@code IN OUT TYPE [THREADS]}); the output is byte-identical to llama-quantize's. On a
 * terminal, a progress bar counts the tensors.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Quantize a GGUF model as llama-quantize does (TYPE by its names: Q8_0, Q4_0, Q4_K_M, ...).")
final class QuantizeCommand extends CliCommand {
    @Option(names = "--allow-requantize", description = "allow quantizing tensors that are already quantized")
    boolean allowRequantize;

    @Option(names = "--leave-output-tensor", description = "leave output.weight unquantized")
    boolean leaveOutputTensor;

    @Option(names = "--pure", description = "every tensor in the type's base type (no k-quant mixtures)")
    boolean pure;

    @Option(names = "--imatrix", paramLabel = "FILE", description = "importance matrix (llama-imatrix's GGUF or .dat)")
    Path imatrix;

    @Option(names = "--output-tensor-type", paramLabel = "TYPE", description = "ggml type of output.weight, e.g. q8_0")
    String outputTensorType;

    @Option(names = "--token-embedding-type", paramLabel = "TYPE", description = "ggml type of token_embd.weight")
    String tokenEmbeddingType;

    @Option(names = "--keep-split", description = "as many output parts as the input has")
    boolean keepSplit;

    @Parameters(index = "0", paramLabel = "IN", arity = "0..1", description = "the model (or a split model's first part)")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT", arity = "0..1", description = "the file to write")
    Path output;

    @Parameters(index = "2", paramLabel = "TYPE", arity = "0..1", description = "llama-quantize's type name, e.g. Q4_K_M")
    String typeName;

    @Parameters(index = "3", paramLabel = "THREADS", arity = "0..1", defaultValue = "0",
            description = "threads (default 0: all cores)")
    int threads;

    @Override
    protected int run() {
        if (input == null || output == null || typeName == null) {
            throw new UsageException("expected IN OUT TYPE [THREADS]");
        }
        QuantizationType type;
        Quantizer.Builder b;
        try {
            type = QuantizationType.parse(typeName);
            if (threads < 0) {
                throw new IllegalArgumentException("THREADS must be >= 0 (0: all cores)");
            }
            b = Quantizer.builder(type).threads(threads).allowRequantize(allowRequantize)
                    .leaveOutputTensor(leaveOutputTensor).pure(pure).keepSplit(keepSplit);
            if (outputTensorType != null) {
                b.outputTensorType(outputTensorType);
            }
            if (tokenEmbeddingType != null) {
                b.tokenEmbeddingType(tokenEmbeddingType);
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (imatrix != null) {
            b.importanceMatrix(imatrix);
        }
        List<Path> written;
        try (Progress bar = Progress.start("quantize", -1, "", 1, false, err)) {
            b.listener(new QuantizeListener() {
                @Override
                public void onProgress(long outputBytes, long inputBytes) {}

                @Override
                public void onTensor(int index, int count, String name) {
                    bar.max(count);
                    bar.stepTo(index);
                    bar.message(name);
                }
            });
            written = b.build().quantize(input, output);
        }
        long bytes = 0;
        for (Path p : written) {
            try {
                bytes += Files.size(p);
            } catch (java.io.IOException e) {
                // reported without it
            }
        }
        err.printf("quantized %s to %s as %s (%.2f MiB)%n", input, written.size() == 1 ? written.get(0) : written, type,
                bytes / 1048576.0);
        return 0;
    }
}
