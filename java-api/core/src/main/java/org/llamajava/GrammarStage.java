package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.llama_sampler;
import org.llamajava.grammar.Grammar;
import org.llamajava.grammar.GrammarTrigger;
import org.llamajava.internal.NativeStrings;

/**
 * Makes the native grammar sampler of a {@link Sampler}: checks what depends on the vocabulary
 * (token references, trigger tokens, the prefill) before llama.cpp sees the grammar.
 */
final class GrammarStage {
    private GrammarStage() {}

    /**
     * The prefill's tokens: as common_sampler_init tokenizes the generation prompt when their
     * pieces spell it; otherwise (e.g. a SentencePiece vocabulary that puts a space before the
     * text after a special token, where llama.cpp's own prefill fails) the longest pieces of the
     * vocabulary that spell it, since the grammar reads only the pieces' text.
     */
    static int[] prefillTokens(Vocabulary voc, Grammar grammar) {
        String text = grammar.prefill();
        if (text.isEmpty() || grammar.isLazy()) {
            return new int[0];
        }
        int[] tokens = voc.tokenize(text, false, true);
        List<Integer> kept = new ArrayList<>();
        StringBuilder spelled = new StringBuilder();
        for (int i = 0; i < tokens.length; i++) {
            String piece = voc.tokenPiece(tokens[i]);
            if (i == 0 && !piece.isEmpty() && Character.isWhitespace(piece.charAt(0))
                    && !Character.isWhitespace(text.charAt(0))) {
                continue; // some tokenizers add a space before the first special token
            }
            kept.add(tokens[i]);
            spelled.append(piece);
        }
        int[] out = spelled.toString().equals(text) ? kept.stream().mapToInt(Integer::intValue).toArray()
                : spell(voc, text);
        for (int t : out) {
            if (voc.isEndOfGeneration(t)) {
                throw new IllegalArgumentException("the grammar's prefill contains an end-of-generation token ("
                        + voc.tokenPiece(t) + "); a grammar cannot consume it");
            }
        }
        return out;
    }

    /** Longest-match spelling of text by the vocabulary's pieces; llama.cpp's tokens if it cannot. */
    private static int[] spell(Vocabulary voc, String text) {
        java.util.Map<String, Integer> pieces = new java.util.HashMap<>();
        int longest = 0;
        for (int id = 0; id < voc.size(); id++) {
            String p = voc.tokenPiece(id);
            if (!p.isEmpty() && p.indexOf('\uFFFD') < 0 && text.contains(p)) {
                pieces.putIfAbsent(p, id);
                longest = Math.max(longest, p.length());
            }
        }
        List<Integer> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int found = -1;
            int len = Math.min(longest, text.length() - i);
            for (; len > 0 && found < 0; len--) {
                Integer id = pieces.get(text.substring(i, i + len));
                if (id != null) {
                    found = id;
                    i += len;
                }
            }
            if (found < 0) {
                return voc.tokenize(text, false, true);
            }
            out.add(found);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Creates the grammar sampler, fed with the prefill. */
    static llama_sampler create(Vocabulary voc, Grammar grammar, int[] prefill) {
        for (String t : grammar.tokenReferences()) {
            int[] ids = voc.tokenize(t, false, true);
            if (ids.length != 1) {
                throw new IllegalArgumentException("the grammar's token " + t + " is " + ids.length
                        + " tokens in this model's vocabulary, not one; use a string literal instead");
            }
        }
        for (int id : grammar.tokenIdReferences()) {
            if (id >= voc.size()) {
                throw new IllegalArgumentException("the grammar's token <[" + id + "]> is outside this model's vocabulary of "
                        + voc.size() + " tokens");
            }
        }
        List<String> patterns = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        for (GrammarTrigger t : grammar.triggers()) {
            if (t.type() == GrammarTrigger.Type.TOKEN) {
                voc.checkToken(t.token());
                tokens.add(t.token());
            } else {
                patterns.add(t.regex());
            }
        }
        List<BytePointer> held = new ArrayList<>();
        try (PointerPointer<BytePointer> pats = new PointerPointer<>(Math.max(1, patterns.size()));
             IntPointer toks = new IntPointer(Math.max(1, tokens.size()));
             PointerPointer<BytePointer> error = new PointerPointer<>(1);
             BytePointer text = new BytePointer(grammar.text(), StandardCharsets.UTF_8);
             BytePointer root = new BytePointer(grammar.root(), StandardCharsets.UTF_8)) {
            for (int i = 0; i < patterns.size(); i++) {
                BytePointer p = new BytePointer(patterns.get(i), StandardCharsets.UTF_8);
                held.add(p);
                pats.put(i, p);
            }
            for (int i = 0; i < tokens.size(); i++) {
                toks.put(i, tokens.get(i));
            }
            llama_sampler g = llamajava_sampler_init_grammar(voc.nativeVocab(), text, root, grammar.isLazy(), pats,
                    patterns.size(), toks, tokens.size(), error);
            if (g == null || g.isNull()) {
                throw new IllegalArgumentException("llama.cpp rejected the grammar: " + takeError(error));
            }
            try {
                prefill(g, prefill);
            } catch (RuntimeException e) {
                llama_sampler_free(g);
                throw e;
            }
            return g;
        } finally {
            held.forEach(BytePointer::close);
        }
    }

    /** Feeds the prefill tokens to a grammar sampler. */
    static void prefill(llama_sampler grammar, int[] prefill) {
        if (prefill.length == 0) {
            return;
        }
        try (IntPointer toks = new IntPointer(prefill); PointerPointer<BytePointer> error = new PointerPointer<>(1)) {
            if (!llamajava_grammar_accept(grammar, toks, prefill.length, error)) {
                throw new IllegalArgumentException("the grammar does not accept its prefill (the text the prompt ends"
                        + " with, e.g. a chat's generation prompt): " + takeError(error));
            }
        }
    }

    private static String takeError(PointerPointer<BytePointer> error) {
        return NativeStrings.takeError(error);
    }
}
