package org.llamajava;

import static org.llamajava.bindings.global.llama.llama_vocab_type;

import java.nio.FloatBuffer;
import java.util.Objects;
import org.llamajava.internal.NgramCache;

/**
 * Speculative decoding: something cheap proposes the next tokens, the model verifies them all in
 * one {@code llama_decode}, keeps those it would have generated itself and removes the rest from
 * its KV cache. The text is token for token what the same sampler generates without speculation
 * (verification samples every row in order and stops at the first disagreement); only the
 * number of decode calls changes. {@link Completion#draftedTokens()} and
 * {@link Completion#acceptedTokens()} report how well the proposals did.
 *
 * <p>Two proposers: {@link #ngram} (draft-free: continuations of n-grams already seen in the
 * prompt and output, as llama.cpp's {@code llama-lookup}; best when the output repeats its input,
 * e.g. rewriting a text or code) and {@link #draftModel} (a small model with the same
 * vocabulary, as llama.cpp's {@code llama-speculative-simple}).
 *
 * <pre>{@code
 * try (Speculation lookup = Speculation.ngram(SpeculationParams.defaults())) {
 *     Completion c = seq.generate(prompt, Sampler.greedy(),
 *             GenerateOptions.builder().maxTokens(256).speculation(lookup).build());
 *     System.out.println(c.acceptedTokens() + " of " + c.draftedTokens() + " drafted tokens accepted");
 * }
 * }</pre>
 *
 * <p>A Speculation keeps state (the n-gram statistics, or the draft model's context) that follows
 * the sequence it last drafted for; use one per thread. Closing it frees a draft model's
 * context, not the draft model.
 */
public final class Speculation implements AutoCloseable {
    /** llama.cpp's SPEC_VOCAB_MAX_SIZE_DIFFERENCE. */
    static final int MAX_VOCAB_SIZE_DIFFERENCE = 128;
    /** llama.cpp's SPEC_VOCAB_CHECK_START_TOKEN_ID. */
    static final int CHECK_START_TOKEN = 5;

    private final SpeculationParams params;
    private final Model draft;
    private final NgramCache ngram;
    private Context draftContext;
    private Sequence draftSequence;
    private Model checkedTarget;
    private boolean closed;

    private Speculation(SpeculationParams params, Model draft) {
        this.params = Objects.requireNonNull(params, "params");
        this.draft = draft;
        this.ngram = draft == null ? new NgramCache(params.ngramMin(), params.ngramMax()) : null;
    }

    /** Draft-free speculation from n-grams of the prompt and the output so far (prompt lookup). */
    public static Speculation ngram(SpeculationParams params) {
        return new Speculation(params, null);
    }

    /**
     * Speculation with a draft model, which must share the target model's vocabulary (checked at
     * the first generation, or now with {@link #checkCompatible}). The draft model is the
     * caller's to close, after this.
     */
    public static Speculation draftModel(Model draft, SpeculationParams params) {
        if (draft == null) {
            throw new IllegalArgumentException("draft model is null; use Speculation.ngram for draft-free speculation");
        }
        return new Speculation(params, draft);
    }

    /**
     * Checks that {@code draft} can draft for {@code target} as llama.cpp's
     * {@code common_speculative_are_compatible} does: the same vocabulary type, the same BOS and
     * EOS handling, sizes within 128 tokens, and the same text for every token id from 5 on.
     *
     * @throws IllegalArgumentException naming the first difference
     */
    public static void checkCompatible(Model target, Model draft) {
        Vocabulary t = target.vocabulary();
        Vocabulary d = draft.vocabulary();
        String what = "the draft model's vocabulary does not match the target model's: ";
        String hint = "; use a draft model of the same family (the same tokenizer), or Speculation.ngram";
        int typeT = llama_vocab_type(t.nativeVocab());
        int typeD = llama_vocab_type(d.nativeVocab());
        if (typeT != typeD) {
            throw new IllegalArgumentException(what + "vocabulary type " + typeD + " vs " + typeT + hint);
        }
        if (t.addsBos() != d.addsBos() || (t.addsBos() && t.bos() != d.bos())) {
            throw new IllegalArgumentException(what + "BOS (adds " + d.addsBos() + ", id " + d.bos() + " vs adds "
                    + t.addsBos() + ", id " + t.bos() + ")" + hint);
        }
        if (t.addsEos() != d.addsEos() || (t.addsEos() && t.eos() != d.eos())) {
            throw new IllegalArgumentException(what + "EOS (adds " + d.addsEos() + ", id " + d.eos() + " vs adds "
                    + t.addsEos() + ", id " + t.eos() + ")" + hint);
        }
        int diff = Math.abs(t.size() - d.size());
        if (diff > MAX_VOCAB_SIZE_DIFFERENCE) {
            throw new IllegalArgumentException(what + d.size() + " tokens vs " + t.size() + " (at most "
                    + MAX_VOCAB_SIZE_DIFFERENCE + " apart)" + hint);
        }
        int n = Math.min(t.size(), d.size());
        for (int i = CHECK_START_TOKEN; i < n; i++) {
            String a = t.tokenText(i);
            String b = d.tokenText(i);
            if (!a.equals(b)) {
                throw new IllegalArgumentException(what + "token " + i + " is '" + b + "' in the draft and '" + a
                        + "' in the target" + hint);
            }
        }
    }

    /** The drafting parameters. */
    public SpeculationParams params() {
        return params;
    }

    /** The draft model, or null for n-gram lookup. */
    public Model draft() {
        return draft;
    }

    /** Frees the draft model's context (not the model); idempotent. */
    @Override
    public void close() {
        closed = true;
        if (draftContext != null) {
            draftContext.close();
            draftContext = null;
            draftSequence = null;
        }
    }

    // ---- used by Sequence's generation --------------------------------------------------------------

    /** Checks that this can draft for a sequence of {@code target} in a context of {@code contextSize}. */
    void prepare(Model target, int contextSize) {
        if (closed) {
            throw new IllegalStateException("this Speculation is closed");
        }
        if (draft == null || checkedTarget == target) {
            return;
        }
        checkCompatible(target, draft);
        int size = params.draftContextSize() == 0 ? contextSize : params.draftContextSize();
        if (draftContext == null || draftContext.contextSize() < size) {
            if (draftContext != null) {
                draftContext.close();
            }
            draftContext = draft.createContext(ContextParams.builder().contextSize(size).build());
            draftSequence = draftContext.newSequence();
        }
        checkedTarget = target;
    }

    /**
     * Drafts up to {@code max} tokens that follow {@code tokens[0..length)} into {@code out}.
     *
     * @return how many were drafted (0 when fewer than draftMin)
     */
    int draft(int[] tokens, int length, int[] out, int max) {
        max = Math.min(max, params.draftMax());
        if (max <= 0 || max < params.draftMin()) {
            return 0;
        }
        int n = draft == null ? ngram.draft(tokens, length, out, max) : draftWithModel(tokens, length, out, max);
        return n < params.draftMin() ? 0 : n;
    }

    private int draftWithModel(int[] tokens, int length, int[] out, int max) {
        Sequence s = draftSequence;
        max = Math.min(max, draftContext.contextSize() - length);
        if (max <= 0) {
            return 0;
        }
        s.prompt(java.util.Arrays.copyOf(tokens, length));
        Decoder d = draftContext.decoder();
        int n = 0;
        while (true) {
            FloatBuffer logits = d.logits(s.id());
            int best = 0;
            float bestLogit = Float.NEGATIVE_INFINITY;
            int size = logits.limit();
            for (int i = 0; i < size; i++) {
                float v = logits.get(i);
                if (v > bestLogit) {
                    bestLogit = v;
                    best = i;
                }
            }
            double sum = 0;
            for (int i = 0; i < size; i++) {
                sum += Math.exp(logits.get(i) - bestLogit);
            }
            double p = 1 / sum;
            out[n++] = best;
            if (n >= max || p < params.pMin()) {
                return n;
            }
            s.append(new int[] {best});
        }
    }
}
