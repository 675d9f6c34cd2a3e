package org.llamajava;

import java.util.ArrayList;
import java.util.List;

/**
 * A fill-in-the-middle request: the code before and after the gap, optional extra context (other
 * files), and an optional start of the middle. {@link #tokens} formats it with the model's FIM
 * tokens exactly as llama-server's {@code /infill} does (its {@code format_prompt_infill}): the
 * repository-level pattern where the vocabulary has those tokens,
 * <pre>
 * [FIM_REP]myproject\n[FIM_SEP]file0\nchunk0[FIM_SEP]file1\nchunk1...[FIM_SEP]filename\n
 * [FIM_PRE]prefix[FIM_SUF]suffix[FIM_MID]prompt
 * </pre>
 * (without them, chunks are separated by a {@code --- snippet ---} line), the prefix cut to its
 * last 3/4 of a batch, the suffix to what is left of a quarter batch, and the extra context to
 * what the context has room for, taken from its end. {@link Sequence#infill} formats and generates.
 *
 * <pre>{@code
 * Infill req = Infill.builder().prefix("def add(a, b):\n    ").suffix("\n    return c\n")
 *         .extra(new InfillChunk("util.py", "import os\n")).build();
 * Completion middle = seq.infill(req, Sampler.greedy(), GenerateOptions.maxTokens(64));
 * }</pre>
 */
public final class Infill {
    private final String prefix;
    private final String suffix;
    private final String prompt;
    private final List<InfillChunk> extra;
    private final int predict;
    private final boolean spm;

    private Infill(Builder b) {
        this.prefix = b.prefix;
        this.suffix = b.suffix;
        this.prompt = b.prompt;
        this.extra = List.copyOf(b.extra);
        this.predict = b.predict;
        this.spm = b.spm;
    }

    /** A new request. */
    public static Builder builder() {
        return new Builder();
    }

    /** The code before the gap. */
    public String prefix() {
        return prefix;
    }

    /** The code after the gap. */
    public String suffix() {
        return suffix;
    }

    /** The start of the middle, if any ({@code ""}). */
    public String prompt() {
        return prompt;
    }

    /** The extra context chunks. */
    public List<InfillChunk> extra() {
        return extra;
    }

    /**
     * The prompt's tokens for a context of {@code contextSize} tokens decoding batches of
     * {@code batchSize} (llama-server's slot n_ctx and n_batch, which budget the parts).
     *
     * @throws UnsupportedOperationException if the vocabulary has no FIM prefix, suffix or middle token
     */
    public int[] tokens(Vocabulary vocab, int contextSize, int batchSize) {
        checkSupported(vocab);
        if (contextSize <= 0 || batchSize <= 0) {
            throw new IllegalArgumentException("contextSize and batchSize must be positive");
        }
        List<Integer> extraTokens = new ArrayList<>();
        int rep = vocab.fimRepo();
        int sep = vocab.fimSeparator();
        if (rep != Vocabulary.NO_TOKEN) {
            extraTokens.add(rep);
            add(extraTokens, vocab.tokenize("myproject\n", false, false));
        }
        for (InfillChunk chunk : extra) {
            if (sep != Vocabulary.NO_TOKEN) {
                extraTokens.add(sep);
                add(extraTokens, vocab.tokenize(chunk.filename() + "\n", false, false));
            } else {
                add(extraTokens, vocab.tokenize("\n\n--- snippet ---\n\n", false, false));
            }
            add(extraTokens, vocab.tokenize(chunk.text(), false, false));
        }
        if (sep != Vocabulary.NO_TOKEN) {
            extraTokens.add(sep);
            add(extraTokens, vocab.tokenize("filename\n", false, false));
        }
        int[] prefixTokens = vocab.tokenize(prefix, false, false);
        int[] suffixTokens = vocab.tokenize(suffix, false, false);
        int[] promptTokens = vocab.tokenize(prompt, false, true);
        int prefixTake = Math.min(prefixTokens.length, 3 * (batchSize / 4));
        int suffixTake = Math.min(suffixTokens.length, Math.max(0, (batchSize / 4) - (2 + promptTokens.length)));
        int extraTake = Math.min(Math.max(0, contextSize - batchSize - 2 * predict), extraTokens.size());

        List<Integer> pre = new ArrayList<>();
        pre.add(vocab.fimPrefix());
        for (int i = prefixTokens.length - prefixTake; i < prefixTokens.length; i++) {
            pre.add(prefixTokens[i]);
        }
        add(pre, promptTokens);
        List<Integer> suf = new ArrayList<>();
        suf.add(vocab.fimSuffix());
        for (int i = 0; i < suffixTake; i++) {
            suf.add(suffixTokens[i]);
        }
        List<Integer> inp = new ArrayList<>(spm ? suf : pre);
        List<Integer> end = spm ? pre : suf;
        if (vocab.addsBos()) {
            inp.add(0, vocab.bos());
        }
        inp.addAll(0, extraTokens.subList(extraTokens.size() - extraTake, extraTokens.size()));
        inp.addAll(end);
        inp.add(vocab.fimMiddle());
        return inp.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Throws {@link UnsupportedOperationException} naming the missing tokens if the vocabulary
     * cannot do fill-in-the-middle (as llama-server answers {@code /infill} for such a model).
     */
    public static void checkSupported(Vocabulary vocab) {
        StringBuilder err = new StringBuilder();
        if (vocab.fimPrefix() == Vocabulary.NO_TOKEN) {
            err.append(" prefix token is missing.");
        }
        if (vocab.fimSuffix() == Vocabulary.NO_TOKEN) {
            err.append(" suffix token is missing.");
        }
        if (vocab.fimMiddle() == Vocabulary.NO_TOKEN) {
            err.append(" middle token is missing.");
        }
        if (err.length() > 0) {
            throw new UnsupportedOperationException("infill is not supported by the model " + vocab.model().path().getFileName()
                    + ": its vocabulary has no fill-in-the-middle tokens;" + err + " Use a code model trained for FIM"
                    + " (e.g. Qwen2.5-Coder, DeepSeek-Coder, StarCoder, CodeLlama)");
        }
    }

    private static void add(List<Integer> to, int[] tokens) {
        for (int t : tokens) {
            to.add(t);
        }
    }

    /** Builds an {@link Infill}. */
    public static final class Builder {
        private String prefix = "";
        private String suffix = "";
        private String prompt = "";
        private final List<InfillChunk> extra = new ArrayList<>();
        private int predict = -1;
        private boolean spm;

        private Builder() {}

        /** The code before the gap (llama-server's {@code input_prefix}). */
        public Builder prefix(String prefix) {
            this.prefix = requireText(prefix, "prefix");
            return this;
        }

        /** The code after the gap ({@code input_suffix}). */
        public Builder suffix(String suffix) {
            this.suffix = requireText(suffix, "suffix");
            return this;
        }

        /** The start of the middle ({@code prompt}; special tokens in it are parsed). */
        public Builder prompt(String prompt) {
            this.prompt = requireText(prompt, "prompt");
            return this;
        }

        /** Adds extra context chunks ({@code input_extra}), in order. */
        public Builder extra(InfillChunk... chunks) {
            for (InfillChunk c : chunks) {
                if (c == null) {
                    throw new IllegalArgumentException("an extra chunk is null");
                }
                extra.add(c);
            }
            return this;
        }

        /** Adds extra context chunks, in order. */
        public Builder extra(List<InfillChunk> chunks) {
            return extra(chunks.toArray(InfillChunk[]::new));
        }

        /**
         * llama-server's {@code n_predict} in the extra context's budget ({@code n_ctx - n_batch -
         * 2 * n_predict} tokens); default -1, as llama-server's.
         */
        public Builder predictBudget(int nPredict) {
            this.predict = nPredict;
            return this;
        }

        /** Suffix-prefix-middle order ({@code --spm-infill}) instead of prefix-suffix-middle. */
        public Builder suffixFirst(boolean spm) {
            this.spm = spm;
            return this;
        }

        public Infill build() {
            return new Infill(this);
        }

        private static String requireText(String s, String what) {
            if (s == null) {
                throw new IllegalArgumentException(what + " is null; use \"\" for none");
            }
            return s;
        }
    }
}
