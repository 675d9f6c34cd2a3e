package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.llama_sampler;
import org.llamajava.internal.NativeStrings;

/** Makes the native reasoning budget stage of a {@link Sampler} from the tags' tokens. */
final class ReasoningBudgetStage {
    private ReasoningBudgetStage() {}

    static llama_sampler create(Vocabulary voc, ReasoningBudget b) {
        int[] start = tokens(voc, b.startTag(), "start tag");
        int[] end = tokens(voc, b.endTag(), "end tag");
        int[] message = b.message().isEmpty() ? new int[0] : voc.tokenize(b.message(), false, true);
        int[] forced = new int[message.length + end.length];
        System.arraycopy(message, 0, forced, 0, message.length);
        System.arraycopy(end, 0, forced, message.length, end.length);
        try (IntPointer s = new IntPointer(start); IntPointer e = new IntPointer(end); IntPointer f = new IntPointer(forced);
             PointerPointer<BytePointer> error = new PointerPointer<>(1)) {
            llama_sampler r = llamajava_reasoning_budget_init(voc.nativeVocab(), s, start.length, e, end.length, f,
                    forced.length, b.tokens(), b.startsInside(), error);
            if (r == null || r.isNull()) {
                throw new LlamaException("llama.cpp could not create the reasoning budget: " + NativeStrings.takeError(error));
            }
            return r;
        }
    }

    private static int[] tokens(Vocabulary voc, String text, String what) {
        int[] t = voc.tokenize(text, false, true);
        if (t.length == 0) {
            throw new IllegalArgumentException("the reasoning budget's " + what + " '" + text + "' is no token in this"
                    + " model's vocabulary");
        }
        return t;
    }
}
