package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.llamajava.bindings.global.llama;
import org.llamajava.bindings.llama_vocab;
import org.llamajava.internal.Fence;
import org.llamajava.internal.NativeStrings;

/**
 * A model's vocabulary: tokenization, detokenization and special tokens. Valid as long as its
 * {@link Model} is open; safe to use from several threads.
 */
public final class Vocabulary {
    /** Returned by {@link #bos()} and the like when the model has no such token. */
    public static final int NO_TOKEN = LLAMA_TOKEN_NULL;

    private final Model model;
    private final llama_vocab vocab;
    private final int size;
    /** Why tokenizing with special tokens would hit a GGML_ASSERT in llama.cpp, or null if it would not. */
    private final String missingSpecial;

    Vocabulary(Model model, llama_vocab vocab) {
        this.model = model;
        this.vocab = vocab;
        this.size = llama_vocab_n_tokens(vocab);
        this.missingSpecial = missingSpecial(vocab);
    }

    /**
     * llama.cpp's tokenizer asserts (aborting the process) when it must add a special token that
     * the vocabulary does not define: BOS or EOS where the model asks for them, and CLS (BOS) and
     * SEP for WordPiece. Found by fuzzing; checked here so that such a model fails with an exception.
     */
    private static String missingSpecial(llama_vocab v) {
        boolean wpm = llama_vocab_type(v) == LLAMA_VOCAB_TYPE_WPM;
        if ((wpm || llama_vocab_get_add_bos(v)) && llama_vocab_bos(v) == LLAMA_TOKEN_NULL) {
            return wpm ? "a WordPiece vocabulary needs a BOS (CLS) token but has none"
                    : "the model asks for a BOS token (tokenizer.ggml.add_bos_token) but defines none";
        }
        if (wpm && llama_vocab_sep(v) == LLAMA_TOKEN_NULL) {
            return "a WordPiece vocabulary needs a SEP token but has none";
        }
        if (!wpm && llama_vocab_get_add_eos(v) && llama_vocab_eos(v) == LLAMA_TOKEN_NULL) {
            return "the model asks for an EOS token (tokenizer.ggml.add_eos_token) but defines none";
        }
        return null;
    }

    /** The model this vocabulary belongs to. */
    public Model model() {
        return model;
    }

    llama_vocab nativeVocab() {
        return handle();
    }

    /** Number of tokens. */
    public int size() {
        return size;
    }

    /**
     * Tokenizes text, adding BOS (and EOS) only where the model asks for them, and parsing
     * special tokens such as {@code <s>}: the defaults of llama.cpp's {@code llama-tokenize}.
     */
    public int[] tokenize(String text) {
        return tokenize(text, true, true);
    }

    /**
     * Tokenizes text.
     *
     * @param addSpecial   add BOS/EOS tokens if the model's tokenizer is configured to
     * @param parseSpecial treat special-token text such as {@code <|im_start|>} as that token
     *                     rather than as plain text
     */
    public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        if (addSpecial && missingSpecial != null) {
            throw new LlamaException("cannot add special tokens when tokenizing with " + model.path().getFileName() + ": "
                    + missingSpecial + "; tokenize with addSpecial=false");
        }
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        llama_vocab v = handle();
        try (BytePointer in = new BytePointer(utf8.length + 1)) {
            in.put(utf8, 0, utf8.length).put(utf8.length, (byte) 0);
            int capacity = utf8.length + 8;
            while (true) {
                try (IntPointer out = new IntPointer(capacity)) {
                    int n;
                    try {
                        n = llama_tokenize(v, in, utf8.length, out, capacity, addSpecial, parseSpecial);
                    } catch (RuntimeException e) {
                        throw failed("llama_tokenize", e);
                    }
                    if (n == Integer.MIN_VALUE) {
                        throw new LlamaException("tokenization overflow: the text is too long for an int32 token count");
                    }
                    if (n >= 0) {
                        int[] ids = new int[n];
                        out.get(ids);
                        return ids;
                    }
                    capacity = -n;
                }
            }
        } finally {
            Reference.reachabilityFence(this); // the Model must not be freed during the native call
        }
    }

    /**
     * Joins tokens back into text.
     *
     * @param removeSpecial  drop BOS/EOS the tokenizer would add
     * @param unparseSpecial render special tokens as their text instead of dropping them
     */
    public String detokenize(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        checkTokens(tokens);
        llama_vocab v = handle();
        try (IntPointer in = new IntPointer(tokens.length == 0 ? 1 : tokens.length)) {
            in.put(tokens, 0, tokens.length);
            int capacity = tokens.length * 8 + 16;
            while (true) {
                try (BytePointer out = new BytePointer(capacity)) {
                    int n;
                    try {
                        n = llama_detokenize(v, in, tokens.length, out, capacity, removeSpecial, unparseSpecial);
                    } catch (RuntimeException e) {
                        throw failed("llama_detokenize", e);
                    }
                    if (n >= 0) {
                        byte[] b = new byte[n];
                        out.get(b, 0, n);
                        return new String(b, StandardCharsets.UTF_8);
                    }
                    capacity = -n;
                }
            }
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Joins tokens back into text, rendering special tokens as text. */
    public String detokenize(int[] tokens) {
        return detokenize(tokens, false, true);
    }

    /**
     * Writes the UTF-8 bytes of one token's piece into {@code buf} and returns their count, or
     * the negated size needed if {@code buf} is too small. No Java allocation.
     */
    int tokenToPiece(int token, BytePointer buf, int capacity, boolean special) {
        checkToken(token);
        try {
            return llama_token_to_piece(handle(), token, buf, capacity, 0, special);
        } catch (RuntimeException e) {
            throw failed("llama_token_to_piece", e);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The piece of text one token stands for (special tokens rendered as text). */
    public String tokenPiece(int token) {
        checkToken(token);
        try {
            return NativeStrings.read((buf, size) -> {
                int n = llama_token_to_piece(handle(), token, buf, (int) size, 0, true);
                return n < 0 ? -n + 0 : n;
            });
        } catch (LlamaException e) {
            throw e;
        } catch (RuntimeException e) {
            throw failed("llama_token_to_piece", e);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The token's raw text as stored in the vocabulary (e.g. {@code ▁Hello}). */
    public String tokenText(int token) {
        checkToken(token);
        return Fence.get(this, handle(), v -> NativeStrings.utf8(llama_vocab_get_text(v, token)));
    }

    /** The token's score (log probability for SentencePiece vocabularies). */
    public float tokenScore(int token) {
        checkToken(token);
        return Fence.get(this, handle(), v -> llama_vocab_get_score(v, token));
    }

    /** The token's attributes. */
    public Set<TokenAttribute> tokenAttributes(int token) {
        checkToken(token);
        return Fence.get(this, handle(), v -> TokenAttribute.fromBits(llama_vocab_get_attr(v, token)));
    }

    /** Whether the token ends generation (EOS, EOT and the like). */
    public boolean isEndOfGeneration(int token) {
        checkToken(token);
        try {
            return llama_vocab_is_eog(handle(), token);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether the token is a control token. */
    public boolean isControl(int token) {
        checkToken(token);
        return Fence.test(this, handle(), v -> llama_vocab_is_control(v, token));
    }

    /** Beginning-of-sequence token, or {@link #NO_TOKEN}. */
    public int bos() {
        return Fence.getInt(this, handle(), llama::llama_vocab_bos);
    }

    /** End-of-sequence token, or {@link #NO_TOKEN}. */
    public int eos() {
        return Fence.getInt(this, handle(), llama::llama_vocab_eos);
    }

    /** End-of-turn token, or {@link #NO_TOKEN}. */
    public int eot() {
        return Fence.getInt(this, handle(), llama::llama_vocab_eot);
    }

    /** Fill-in-the-middle prefix token ({@code <|fim_prefix|>}, {@code <fim_prefix>}, ...), or {@link #NO_TOKEN}. */
    public int fimPrefix() {
        return Fence.getInt(this, handle(), llama::llama_vocab_fim_pre);
    }

    /** Fill-in-the-middle suffix token, or {@link #NO_TOKEN}. */
    public int fimSuffix() {
        return Fence.getInt(this, handle(), llama::llama_vocab_fim_suf);
    }

    /** Fill-in-the-middle middle token (after which the model writes the middle), or {@link #NO_TOKEN}. */
    public int fimMiddle() {
        return Fence.getInt(this, handle(), llama::llama_vocab_fim_mid);
    }

    /** Fill-in-the-middle padding token, or {@link #NO_TOKEN}. */
    public int fimPad() {
        return Fence.getInt(this, handle(), llama::llama_vocab_fim_pad);
    }

    /** Repository-level FIM: the repository name token ({@code <|repo_name|>}), or {@link #NO_TOKEN}. */
    public int fimRepo() {
        return Fence.getInt(this, handle(), llama::llama_vocab_fim_rep);
    }

    /** Repository-level FIM: the file separator token ({@code <|file_sep|>}), or {@link #NO_TOKEN}. */
    public int fimSeparator() {
        return Fence.getInt(this, handle(), llama::llama_vocab_fim_sep);
    }

    /** Whether tokenizing with {@code addSpecial} prepends BOS. */
    public boolean addsBos() {
        return Fence.test(this, handle(), llama::llama_vocab_get_add_bos);
    }

    /** Whether tokenizing with {@code addSpecial} appends EOS. */
    public boolean addsEos() {
        return Fence.test(this, handle(), llama::llama_vocab_get_add_eos);
    }

    /** Separator token (BERT's [SEP]), or {@link #NO_TOKEN}. */
    public int sep() {
        return Fence.getInt(this, handle(), llama::llama_vocab_sep);
    }

    /** Whether tokenizing with {@code addSpecial} appends the separator token. */
    public boolean addsSep() {
        return Fence.test(this, handle(), llama::llama_vocab_get_add_sep);
    }

    /**
     * A C++ exception thrown inside llama.cpp's tokenizer (which JavaCPP turns into a
     * RuntimeException), e.g. {@code unordered_map::at} for a vocabulary without the byte tokens
     * its tokenizer needs: reported as a {@link LlamaException} that names the model.
     */
    private LlamaException failed(String call, RuntimeException e) {
        return new LlamaException(call + " failed inside llama.cpp (" + e.getMessage() + "): the vocabulary of "
                + model.path().getFileName() + " is incomplete or inconsistent", e);
    }

    /** Throws IllegalArgumentException unless {@code token} is a valid id in this vocabulary. */
    public void checkToken(int token) {
        if (token < 0 || token >= size) {
            throw new IllegalArgumentException("token id " + token + " is out of range [0, " + size + ")");
        }
    }

    /** Throws IllegalArgumentException unless every id is valid in this vocabulary (null: also). */
    public void checkTokens(int[] tokens) {
        if (tokens == null) {
            throw new IllegalArgumentException("tokens is null");
        }
        for (int t : tokens) {
            checkToken(t);
        }
    }

    private llama_vocab handle() {
        model.handle();
        return vocab;
    }
}
