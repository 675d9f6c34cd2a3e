package org.llamajava.cli;

import java.util.List;
import java.util.Map;
import org.llamajava.gguf.GgufFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code inspect MODEL}: the GGUF's metadata and tensor list, without loading weights. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a GGUF file's metadata and tensors (name, type, shape) without loading weights.")
final class InspectCommand extends CliCommand {
    private static final int MAX_ARRAY_SHOWN = 8;

    @Mixin
    ModelOption model;

    @Parameters(arity = "0..1", paramLabel = "MODEL", description = "the model (or -m MODEL)")
    String positional;

    @Override
    protected int run() {
        if (positional != null) {
            model.model = positional; // the positional MODEL wins over LLAMA_ARG_MODEL
        } else if (!model.given()) {
            throw new UsageException("give exactly one MODEL");
        }
        GgufFile g = GgufFile.read(model.path(this));
        out.printf("file: %s%nversion: %d%nalignment: %d%nmetadata: %d keys%n", g.path(), g.version(), g.alignment(),
                g.metadata().size());
        for (Map.Entry<String, Object> e : g.metadata().entrySet()) {
            out.printf("  %s = %s%n", e.getKey(), show(e.getValue()));
        }
        out.printf("tensors: %d%n", g.tensors().size());
        for (GgufFile.TensorInfo t : g.tensors()) {
            out.printf("  %-40s %-6s %s%n", t.name(), t.type(), t.shapeString());
        }
        return 0;
    }

    private static String show(Object v) {
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < Math.min(l.size(), MAX_ARRAY_SHOWN); i++) {
                sb.append(i == 0 ? "" : ", ").append(show(l.get(i)));
            }
            if (l.size() > MAX_ARRAY_SHOWN) {
                sb.append(", ... (").append(l.size()).append(" items)");
            }
            return sb.append(']').toString();
        }
        if (v instanceof String s) {
            String one = s.replace("\n", "\\n");
            return '"' + (one.length() > 120 ? one.substring(0, 117) + "..." : one) + '"';
        }
        return String.valueOf(v);
    }
}
