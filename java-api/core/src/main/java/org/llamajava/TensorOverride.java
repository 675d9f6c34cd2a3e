package org.llamajava;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Where tensors whose name matches a pattern are kept, overriding llama.cpp's placement (its
 * {@code -ot/--override-tensor PATTERN=TYPE}): {@code pattern} is a regular expression searched
 * in each tensor name (as {@code std::regex_search} does), {@code bufferType} the name of a
 * device's buffer type, e.g. {@code CPU}, {@code CUDA0}, or an RPC server's. The first matching
 * override wins.
 *
 * @param pattern    a regular expression, e.g. {@code \.ffn_(up|down|gate)_exps}
 * @param bufferType a buffer type name, e.g. {@code CPU}
 */
public record TensorOverride(String pattern, String bufferType) {

    /** The expert tensors of a mixture-of-experts layer (llama.cpp's {@code LLM_FFN_EXPS_REGEX}). */
    public static final String EXPERTS_PATTERN = "\\.ffn_(up|down|gate|gate_up)_(ch|)exps";

    public TensorOverride {
        if (pattern == null || pattern.isEmpty()) {
            throw new IllegalArgumentException("a tensor override needs a pattern");
        }
        if (bufferType == null || bufferType.isBlank()) {
            throw new IllegalArgumentException("the tensor override '" + pattern + "' needs a buffer type, e.g. CPU");
        }
        try {
            Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("the tensor override pattern '" + pattern
                    + "' is not a valid regular expression: " + e.getDescription());
        }
    }

    /** Whether the pattern is found in {@code tensorName}. */
    public boolean matches(String tensorName) {
        return Pattern.compile(pattern).matcher(tensorName).find();
    }

    /**
     * Parses llama.cpp's {@code -ot} syntax: {@code PATTERN=TYPE[,PATTERN=TYPE...]}.
     *
     * @throws IllegalArgumentException for an item without {@code =}
     */
    public static List<TensorOverride> parse(String spec) {
        List<TensorOverride> out = new ArrayList<>();
        for (String item : spec.split(",")) {
            int eq = item.lastIndexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("a tensor override is PATTERN=BUFFER_TYPE (e.g. "
                        + "'\\.ffn_.*_exps=CPU'); got '" + item + "'");
            }
            out.add(new TensorOverride(item.substring(0, eq), item.substring(eq + 1)));
        }
        return out;
    }

    /** The override that keeps the expert tensors of layer {@code layer} in CPU memory ({@code --n-cpu-moe}). */
    static TensorOverride expertsOfLayer(int layer) {
        return new TensorOverride("blk\\." + layer + EXPERTS_PATTERN, "CPU");
    }
}
