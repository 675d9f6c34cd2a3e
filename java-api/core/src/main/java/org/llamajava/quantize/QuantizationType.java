package org.llamajava.quantize;

import static org.llamajava.bindings.global.llama.*;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The quantization types of llama.cpp's {@code llama-quantize}, by its names ({@code Q4_K_M},
 * {@code Q8_0}, ...): each is a {@code llama_ftype}, the mix of tensor types llama.cpp chooses
 * for a model. {@link #COPY} copies the tensors unchanged.
 */
public enum QuantizationType {
    Q1_0(LLAMA_FTYPE_MOSTLY_Q1_0), Q2_0(LLAMA_FTYPE_MOSTLY_Q2_0),
    Q4_0(LLAMA_FTYPE_MOSTLY_Q4_0), Q4_1(LLAMA_FTYPE_MOSTLY_Q4_1), MXFP4_MOE(LLAMA_FTYPE_MOSTLY_MXFP4_MOE),
    Q5_0(LLAMA_FTYPE_MOSTLY_Q5_0), Q5_1(LLAMA_FTYPE_MOSTLY_Q5_1),
    IQ2_XXS(LLAMA_FTYPE_MOSTLY_IQ2_XXS), IQ2_XS(LLAMA_FTYPE_MOSTLY_IQ2_XS), IQ2_S(LLAMA_FTYPE_MOSTLY_IQ2_S),
    IQ2_M(LLAMA_FTYPE_MOSTLY_IQ2_M), IQ1_S(LLAMA_FTYPE_MOSTLY_IQ1_S), IQ1_M(LLAMA_FTYPE_MOSTLY_IQ1_M),
    TQ1_0(LLAMA_FTYPE_MOSTLY_TQ1_0), TQ2_0(LLAMA_FTYPE_MOSTLY_TQ2_0),
    Q2_K(LLAMA_FTYPE_MOSTLY_Q2_K), Q2_K_S(LLAMA_FTYPE_MOSTLY_Q2_K_S),
    IQ3_XXS(LLAMA_FTYPE_MOSTLY_IQ3_XXS), IQ3_S(LLAMA_FTYPE_MOSTLY_IQ3_S), IQ3_M(LLAMA_FTYPE_MOSTLY_IQ3_M),
    /** Alias for {@link #Q3_K_M}. */
    Q3_K(LLAMA_FTYPE_MOSTLY_Q3_K_M),
    IQ3_XS(LLAMA_FTYPE_MOSTLY_IQ3_XS), Q3_K_S(LLAMA_FTYPE_MOSTLY_Q3_K_S), Q3_K_M(LLAMA_FTYPE_MOSTLY_Q3_K_M),
    Q3_K_L(LLAMA_FTYPE_MOSTLY_Q3_K_L), IQ4_NL(LLAMA_FTYPE_MOSTLY_IQ4_NL), IQ4_XS(LLAMA_FTYPE_MOSTLY_IQ4_XS),
    /** Alias for {@link #Q4_K_M}. */
    Q4_K(LLAMA_FTYPE_MOSTLY_Q4_K_M),
    Q4_K_S(LLAMA_FTYPE_MOSTLY_Q4_K_S), Q4_K_M(LLAMA_FTYPE_MOSTLY_Q4_K_M),
    /** Alias for {@link #Q5_K_M}. */
    Q5_K(LLAMA_FTYPE_MOSTLY_Q5_K_M),
    Q5_K_S(LLAMA_FTYPE_MOSTLY_Q5_K_S), Q5_K_M(LLAMA_FTYPE_MOSTLY_Q5_K_M), Q6_K(LLAMA_FTYPE_MOSTLY_Q6_K),
    Q8_0(LLAMA_FTYPE_MOSTLY_Q8_0), F16(LLAMA_FTYPE_MOSTLY_F16), BF16(LLAMA_FTYPE_MOSTLY_BF16),
    F32(LLAMA_FTYPE_ALL_F32),
    /** Copies the tensors without quantizing (llama-quantize's {@code COPY}). */
    COPY(LLAMA_FTYPE_ALL_F32);

    final int ftype;

    QuantizationType(int ftype) {
        this.ftype = ftype;
    }

    /** llama.cpp's {@code llama_ftype} value. */
    public int ftype() {
        return ftype;
    }

    /**
     * The type of a llama-quantize name, ignoring case as llama-quantize does ({@code q4_k_m}).
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public static QuantizationType parse(String name) {
        if (name == null) {
            throw new IllegalArgumentException("quantization type is null");
        }
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown quantization type '" + name + "'; known types: "
                    + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
        }
    }
}
