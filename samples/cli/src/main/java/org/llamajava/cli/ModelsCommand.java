package org.llamajava.cli;

import org.llamajava.hub.ModelCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.llamajava.gguf.GgufFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code models}: the GGUF files in the models folder with their size, architecture and
 * quantization, read from each file's metadata (no weights loaded).
 */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the models in the models folder: name, size, architecture, quantization.")
final class ModelsCommand extends CliCommand {
    @Option(names = "--models-dir", paramLabel = "DIR", defaultValue = "${env:LLAMA_JAVA_MODELS}",
            description = "the models folder (default: ~/.llama-java/models; env: LLAMA_JAVA_MODELS)")
    Path modelsDir;

    /** llama.cpp's {@code llama_ftype} values, by number ({@code general.file_type}). */
    private static final String[] FILE_TYPES = {"F32", "F16", "Q4_0", "Q4_1", null, null, null, "Q8_0", "Q5_0", "Q5_1",
            "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS", "IQ2_XS",
            "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M",
            "BF16", null, null, null, "TQ1_0", "TQ2_0", "MXFP4_MOE", "NVFP4", "Q1_0", "Q2_0"};

    @Override
    protected int run() {
        ModelCache store = ModelCache.fromEnvironment(modelsDir);
        List<Path> files = store.list();
        if (files.isEmpty()) {
            err.println("no models in " + store.dir() + " (llama-java pull REF downloads one)");
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "SIZE", "ARCH", "QUANT"});
        for (Path p : files) {
            String name = store.dir().relativize(p).toString();
            String size = BenchCommand.size(p.toFile().length());
            try {
                GgufFile g = GgufFile.read(p);
                rows.add(new String[] {name, size, String.valueOf(g.architecture()), quantization(g)});
            } catch (RuntimeException e) {
                rows.add(new String[] {name, size, "?", "not a readable GGUF: " + ChatLoop.oneLine(e)});
            }
        }
        int[] w = new int[4];
        for (String[] r : rows) {
            for (int i = 0; i < 4; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            out.println(String.format(Locale.ROOT, "%-" + w[0] + "s  %" + w[1] + "s  %-" + w[2] + "s  %s", r[0], r[1],
                    r[2], r[3]).stripTrailing());
        }
        return 0;
    }

    /** {@code general.file_type} by name, else the most common tensor type. */
    static String quantization(GgufFile g) {
        Object ft = g.metadata().get("general.file_type");
        if (ft instanceof Number n) {
            int i = n.intValue();
            if (i >= 0 && i < FILE_TYPES.length && FILE_TYPES[i] != null) {
                return FILE_TYPES[i];
            }
        }
        Map<String, Long> bytes = new HashMap<>();
        for (GgufFile.TensorInfo t : g.tensors()) {
            bytes.merge(t.type().toString(), t.sizeBytes(), Long::sum);
        }
        return bytes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("?");
    }
}
