package org.llamajava.gguf;

import java.util.ArrayList;
import java.util.List;

/**
 * A SentencePiece-style ("llama") vocabulary to write into a GGUF model.
 *
 * @param tokens     token texts, by id
 * @param scores     one score per token (higher merges first)
 * @param types      one llama token type per token (1 normal, 2 unknown, 3 control, 6 byte)
 * @param bos        beginning-of-sequence id
 * @param eos        end-of-sequence id
 * @param unk        unknown-token id
 */
public record VocabularySpec(List<String> tokens, float[] scores, int[] types, int bos, int eos, int unk) {

    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_UNKNOWN = 2;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_BYTE = 6;

    public VocabularySpec {
        tokens = List.copyOf(tokens);
        if (scores.length != tokens.size() || types.length != tokens.size()) {
            throw new IllegalArgumentException("tokens, scores and types must have the same length");
        }
        for (int id : new int[] {bos, eos, unk}) {
            if (id < 0 || id >= tokens.size()) {
                throw new IllegalArgumentException("special token id " + id + " is outside the vocabulary");
            }
        }
        scores = scores.clone();
        types = types.clone();
    }

    /**
     * {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte-fallback tokens {@code <0x00>}..,
     * then the given pieces (use {@code ▁} for a leading space), scored so that longer pieces
     * win. Any text can be tokenized with it.
     */
    public static VocabularySpec byteFallback(List<String> pieces) {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        tokens.add("<unk>");
        types.add(TYPE_UNKNOWN);
        tokens.add("<s>");
        types.add(TYPE_CONTROL);
        tokens.add("</s>");
        types.add(TYPE_CONTROL);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(TYPE_BYTE);
        }
        for (String p : pieces) {
            if (tokens.contains(p)) {
                throw new IllegalArgumentException("duplicate piece " + p);
            }
            tokens.add(p);
            types.add(TYPE_NORMAL);
        }
        float[] scores = new float[tokens.size()];
        int[] t = new int[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            t[i] = types.get(i);
            // SentencePiece scores are log-probabilities: prefer longer pieces, then earlier ones
            scores[i] = t[i] == TYPE_NORMAL ? tokens.get(i).length() * 10f - i * 1e-3f : 0f;
        }
        return new VocabularySpec(tokens, scores, t, 1, 2, 0);
    }

    /** The vocabulary of an existing SentencePiece GGUF model (e.g. to reuse a real 32k vocabulary). */
    @SuppressWarnings("unchecked")
    public static VocabularySpec from(GgufFile gguf) {
        if (!"llama".equals(gguf.getString("tokenizer.ggml.model"))) {
            throw new IllegalArgumentException("only SentencePiece (tokenizer.ggml.model = llama) vocabularies are supported");
        }
        List<String> tokens = (List<String>) gguf.metadata().get("tokenizer.ggml.tokens");
        List<Float> scores = (List<Float>) gguf.metadata().get("tokenizer.ggml.scores");
        List<Integer> types = (List<Integer>) gguf.metadata().get("tokenizer.ggml.token_type");
        float[] s = new float[tokens.size()];
        int[] t = new int[tokens.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
            t[i] = types.get(i);
        }
        return new VocabularySpec(tokens, s, t, id(gguf, "tokenizer.ggml.bos_token_id", 1),
                id(gguf, "tokenizer.ggml.eos_token_id", 2), id(gguf, "tokenizer.ggml.unknown_token_id", 0));
    }

    private static int id(GgufFile gguf, String key, int fallback) {
        Object v = gguf.metadata().get(key);
        return v instanceof Number n ? n.intValue() : fallback;
    }

    /** Number of tokens. */
    public int size() {
        return tokens.size();
    }
}
