package org.llamajava.springai;

import org.llamajava.Model;
import org.llamajava.Vocabulary;

/** Options that force a tool call on random weights, as the starter's tests force one. */
final class SpringAiToolsSupport {
    private SpringAiToolsSupport() {}

    /** The format's opener, a newline and the end of turn biased, repeats penalised. */
    static LlamaJavaChatOptions.Builder forcing(Model model) {
        Vocabulary v = model.vocabulary();
        int[] open = v.tokenize("<tool_call>", false, true);
        int[] newlines = v.tokenize("\n", false, true);
        int stop = v.tokenize("<|im_end|>", false, true)[0];
        return LlamaJavaChatOptions.builder().toolChoice(LlamaJavaChatOptions.REQUIRED)
                .logitBias(open[open.length - 1], 30f).logitBias(newlines[newlines.length - 1], 25f).logitBias(stop, 40f)
                .repeatPenalty(64, 100).temperature(1.0).minP(0.0).seed(3L).maxTokens(200);
    }
}
