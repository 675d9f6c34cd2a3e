package org.llamajava.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Stack;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.llamajava.Context;
import org.llamajava.ControlVector;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import picocli.CommandLine;
import picocli.CommandLine.IParameterConsumer;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * LoRA adapters and control vectors, with llama.cpp's flags (common/arg.cpp): {@code --lora FNAME}
 * (scale 1), {@code --lora-scaled FNAME:SCALE}, {@code --control-vector FNAME},
 * {@code --control-vector-scaled FNAME:SCALE} (each repeatable, and each taking comma-separated
 * values as llama.cpp's do; the scaled ones also take llama.cpp's older form {@code FNAME SCALE}),
 * and {@code --control-vector-layer-range START END}. After the model loads, {@link #load} loads
 * the adapters for it (they close with the model) and sums the control vectors with their scales,
 * in command-line order, as llama.cpp's common loader does; the result applies to a context.
 */
final class AdapterOptions {
    /** Where each file came on the command line, across the four flags (control vectors add up in that order). */
    private static final AtomicLong ORDER = new AtomicLong();

    /** One file and its scale; {@code order}: its place on the command line. */
    record Entry(String file, float scale, long order) {}

    @Option(names = "--lora", paramLabel = "FNAME", parameterConsumer = Plain.class,
            description = "a LoRA adapter, at scale 1; repeatable, or comma-separated")
    List<Entry> lora = new ArrayList<>();

    @Option(names = "--lora-scaled", paramLabel = "FNAME:SCALE[,...]", parameterConsumer = Scaled.class,
            description = "a LoRA adapter at a scale (also FNAME SCALE); repeatable, or comma-separated")
    List<Entry> loraScaled = new ArrayList<>();

    @Option(names = "--control-vector", paramLabel = "FNAME", parameterConsumer = Plain.class,
            description = "a control vector, at strength 1 (several add up); repeatable, or comma-separated")
    List<Entry> controlVector = new ArrayList<>();

    @Option(names = "--control-vector-scaled", paramLabel = "FNAME:SCALE[,...]", parameterConsumer = Scaled.class,
            description = "a control vector at a strength (also FNAME SCALE); repeatable, or comma-separated")
    List<Entry> controlVectorScaled = new ArrayList<>();

    @Option(names = "--control-vector-layer-range", arity = "2", paramLabel = "START END", hideParamSyntax = true,
            description = "the layers the control vectors apply to, both inclusive, from 1 (default: all)")
    List<Integer> layerRange = new ArrayList<>();

    /** Whether any adapter or control vector is given. */
    boolean given() {
        return !lora.isEmpty() || !loraScaled.isEmpty() || !controlVector.isEmpty() || !controlVectorScaled.isEmpty();
    }

    /**
     * Checks the flags before a model is loaded: a layer range needs a control vector, and every
     * file must exist (bad input: status 1).
     */
    void check() {
        if (!layerRange.isEmpty() && controlVector.isEmpty() && controlVectorScaled.isEmpty()) {
            throw new UsageException("--control-vector-layer-range needs --control-vector FNAME or"
                    + " --control-vector-scaled FNAME:SCALE");
        }
        check("--lora", lora);
        check("--lora-scaled", loraScaled);
        check("--control-vector", controlVector);
        check("--control-vector-scaled", controlVectorScaled);
    }

    private static void check(String flag, List<Entry> entries) {
        for (Entry e : entries) {
            Path p = Path.of(e.file());
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(flag + " " + e.file() + ": " + (Files.isDirectory(p)
                        ? "is a directory, not a GGUF file" : "no such file"));
            }
        }
    }

    /**
     * Loads the LoRA adapters for {@code model} (closed with it) and the control vectors, checked
     * against it; the result applies them to a context of that model.
     *
     * @throws UsageException for a layer range outside the model's layers
     * @throws RuntimeException with a one-line message for a file that is not an adapter of this model
     */
    Loaded load(Model model) {
        check();
        List<Entry> loras = new ArrayList<>(lora);
        loras.addAll(loraScaled);
        loras.sort(Comparator.comparingLong(Entry::order));
        List<Entry> vectors = new ArrayList<>(controlVector);
        vectors.addAll(controlVectorScaled);
        vectors.sort(Comparator.comparingLong(Entry::order));

        ControlVector sum = null;
        int layers = model.layerCount();
        int start = 1;
        int end = layers;
        if (!vectors.isEmpty()) {
            List<ControlVector> loaded = new ArrayList<>();
            for (Entry e : vectors) {
                ControlVector v = ControlVector.load(Path.of(e.file()), e.scale());
                if (v.embeddingSize() != model.embeddingSize()) {
                    throw new IllegalArgumentException("control vector " + e.file() + " has directions of "
                            + v.embeddingSize() + " values but the model's embedding size is " + model.embeddingSize()
                            + ": it was made for another model");
                }
                loaded.add(v);
            }
            sum = ControlVector.sum(loaded.toArray(ControlVector[]::new));
            if (!layerRange.isEmpty()) {
                // the last range given wins; 0 or less means the default, as in llama.cpp's common
                int s = layerRange.get(layerRange.size() - 2);
                int t = layerRange.get(layerRange.size() - 1);
                start = s <= 0 ? 1 : s;
                end = t <= 0 ? layers : t;
                if (start > end || end > layers) {
                    throw new UsageException("--control-vector-layer-range " + s + " " + t + ": the range must lie within"
                            + " 1.." + layers + " (the model's layers) with START <= END");
                }
            }
        }
        Map<LoraAdapter, Float> adapters = new LinkedHashMap<>();
        for (Entry e : loras) {
            adapters.put(LoraAdapter.load(model, Path.of(e.file())), e.scale());
        }
        return new Loaded(adapters, sum, start, end);
    }

    /**
     * Adapters loaded for one model: applies them to a context of it.
     *
     * @param loras  the LoRA adapters and their scales (empty: none)
     * @param vector the control vectors' sum, or null
     * @param start  the first layer the control vector applies to
     * @param end    the last layer
     */
    record Loaded(Map<LoraAdapter, Float> loras, ControlVector vector, int start, int end) implements Consumer<Context> {
        @Override
        public void accept(Context ctx) {
            if (!loras.isEmpty()) {
                ctx.setLoraAdapters(loras);
            }
            if (vector != null) {
                ctx.setControlVector(vector, start, end);
            }
        }

        /** The same adapters at scale 0: loaded, not applied (llama-server's {@code --lora-init-without-apply}). */
        Loaded withoutApplying() {
            Map<LoraAdapter, Float> zero = new LinkedHashMap<>();
            loras.keySet().forEach(a -> zero.put(a, 0f));
            return new Loaded(zero, vector, start, end);
        }

        /** What stderr says: how many adapters apply, or null for none. */
        String describe() {
            if (loras.isEmpty() && vector == null) {
                return null;
            }
            List<String> parts = new ArrayList<>();
            if (!loras.isEmpty()) {
                parts.add(loras.size() + " LoRA adapter" + (loras.size() == 1 ? "" : "s"));
            }
            if (vector != null) {
                parts.add("a control vector on layers " + start + ".." + end);
            }
            return String.join(" and ", parts);
        }
    }

    // ---- parsing ---------------------------------------------------------------------------------

    /** {@code FNAME[,FNAME...]} at scale 1. */
    static final class Plain implements IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec commandSpec) {
            String flag = name(argSpec);
            String value = next(args, flag + " needs a file name", commandSpec);
            List<Entry> list = list(argSpec);
            for (String item : value.split(",", -1)) {
                list.add(new Entry(file(item, flag, commandSpec), 1f, ORDER.incrementAndGet()));
            }
        }
    }

    /** {@code FNAME:SCALE[,FNAME:SCALE...]}, as llama.cpp takes it; or {@code FNAME SCALE}, as it used to. */
    static final class Scaled implements IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec commandSpec) {
            String flag = name(argSpec);
            String usage = flag + " takes FNAME:SCALE[,FNAME:SCALE...] (e.g. adapter.gguf:0.5), or FNAME SCALE";
            String value = next(args, usage, commandSpec);
            List<Entry> list = list(argSpec);
            int colon = value.lastIndexOf(':');
            if (value.indexOf(',') < 0 && (colon < 0 || scale(value.substring(colon + 1)) == null)) {
                // the older form: the scale is the next argument
                Float s = args.isEmpty() ? null : scale(args.peek());
                if (s == null) {
                    throw new CommandLine.ParameterException(commandSpec.commandLine(), usage + "; got '" + value + "'");
                }
                args.pop();
                list.add(new Entry(file(value, flag, commandSpec), s, ORDER.incrementAndGet()));
                return;
            }
            for (String item : value.split(",", -1)) {
                int c = item.lastIndexOf(':');
                Float s = c < 0 ? null : scale(item.substring(c + 1));
                if (s == null) {
                    throw new CommandLine.ParameterException(commandSpec.commandLine(), usage + "; got '" + item + "'");
                }
                list.add(new Entry(file(item.substring(0, c), flag, commandSpec), s, ORDER.incrementAndGet()));
            }
        }
    }

    private static String name(ArgSpec argSpec) {
        return ((CommandLine.Model.OptionSpec) argSpec).longestName();
    }

    private static String next(Stack<String> args, String message, CommandSpec spec) {
        if (args.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
        return args.pop();
    }

    private static String file(String item, String flag, CommandSpec spec) {
        String f = item.strip();
        if (f.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " has an empty file name");
        }
        return f;
    }

    /** A finite number, or null. */
    private static Float scale(String s) {
        try {
            float f = Float.parseFloat(s.strip());
            return Float.isFinite(f) && s.strip().matches("[-+0-9.eE]+") ? f : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Entry> list(ArgSpec argSpec) {
        List<Entry> list = argSpec.getValue();
        if (list == null) {
            list = new ArrayList<>();
            argSpec.setValue(list);
        }
        return list;
    }
}
