package org.llamajava.grammar;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.llamajava.internal.Gbnf;

/**
 * A GBNF grammar (llama.cpp's grammar format) that constrains generation: add it to a sampler
 * with {@link org.llamajava.Sampler.Builder#grammar(Grammar)}.
 *
 * <pre>{@code
 * Grammar yesNo = Grammar.gbnf("root ::= \"yes\" | \"no\"");
 * try (Sampler s = Sampler.builder().grammar(yesNo).greedy().build(model)) { ... }
 * }</pre>
 *
 * <p>The grammar is checked when it is created, the way llama.cpp will read it: a syntax error, a
 * rule used but never defined, left recursion, an empty grammar or a missing root rule throws
 * {@link IllegalArgumentException} naming the problem and its line and column, so that nothing
 * invalid reaches llama.cpp (whose parser would only print to stderr, and which aborts or hangs on
 * a few inputs). {@code <token>} references are checked against the model's vocabulary when the
 * sampler is built.
 *
 * <p>A {@linkplain #lazy lazy} grammar constrains only from a trigger on (a word, pattern or token
 * in the generated text), as llama-server uses for tool calls. A grammar may also carry a
 * {@linkplain #withPrefill prefill}: text already in the prompt that the grammar consumes before
 * the first generated token (a chat's generation prompt, for grammars that llama.cpp's chat API
 * makes).
 *
 * <p>When the grammar allows no token at all (e.g. it needs a character no token contains),
 * generation ends with {@link org.llamajava.FinishReason#GRAMMAR_REJECTED}; once the grammar is
 * complete, only end-of-generation tokens are allowed.
 */
public final class Grammar {
    /** The name of the rule a grammar starts from unless another is given. */
    public static final String DEFAULT_ROOT = "root";

    private final String text;
    private final String root;
    private final Gbnf.Parsed parsed;
    private final List<GrammarTrigger> triggers;
    private final String prefill;

    private Grammar(String text, String root, Gbnf.Parsed parsed, List<GrammarTrigger> triggers, String prefill) {
        this.text = text;
        this.root = root;
        this.parsed = parsed;
        this.triggers = triggers;
        this.prefill = prefill;
    }

    /** A grammar that starts from its {@code root} rule. */
    public static Grammar gbnf(String text) {
        return gbnf(text, DEFAULT_ROOT);
    }

    /**
     * A grammar that starts from the given rule.
     *
     * @throws IllegalArgumentException if llama.cpp would not accept the grammar (with line and column)
     */
    public static Grammar gbnf(String text, String root) {
        if (text == null) {
            throw new IllegalArgumentException("grammar text is null");
        }
        return new Grammar(text, root, Gbnf.parse(text, root), null, "");
    }

    /** A grammar read from a file (UTF-8), starting from its {@code root} rule. */
    public static Grammar fromFile(Path file) {
        return fromFile(file, DEFAULT_ROOT);
    }

    /** A grammar read from a file (UTF-8), starting from the given rule. */
    public static Grammar fromFile(Path file, String root) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such grammar file: " + file.toAbsolutePath(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read grammar file " + file + ": " + e.getMessage(), e);
        }
        try {
            return gbnf(text, root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * This grammar, constraining only from the first trigger on.
     *
     * @throws IllegalArgumentException if no trigger is given
     */
    public Grammar lazy(List<GrammarTrigger> triggers) {
        if (triggers == null || triggers.isEmpty()) {
            throw new IllegalArgumentException("a lazy grammar needs at least one trigger");
        }
        return new Grammar(text, root, parsed, List.copyOf(triggers), prefill);
    }

    /** This grammar, constraining only from the first of these triggers on. */
    public Grammar lazy(GrammarTrigger... triggers) {
        return lazy(Arrays.asList(triggers));
    }

    /**
     * This grammar, having already consumed {@code text} (which the prompt ends with) when
     * generation starts; "" for none. Not for lazy grammars, which start at their trigger.
     */
    public Grammar withPrefill(String text) {
        if (text == null) {
            throw new IllegalArgumentException("prefill is null (use \"\" for none)");
        }
        return new Grammar(this.text, root, parsed, triggers, text);
    }

    /** The GBNF text. */
    public String text() {
        return text;
    }

    /** The rule generation starts from. */
    public String root() {
        return root;
    }

    /** The rules the grammar defines, in order of first appearance. */
    public List<String> rules() {
        return parsed.ruleNames();
    }

    /** The {@code <token>} references (texts that must each be one token of the model's vocabulary). */
    public List<String> tokenReferences() {
        return parsed.tokens();
    }

    /** The {@code <[id]>} token-id references. */
    public List<Integer> tokenIdReferences() {
        return parsed.tokenIds();
    }

    /** Whether the grammar waits for a trigger. */
    public boolean isLazy() {
        return triggers != null;
    }

    /** The triggers of a lazy grammar; empty for an eager one. */
    public List<GrammarTrigger> triggers() {
        return triggers == null ? List.of() : triggers;
    }

    /** Text the grammar consumes before generation starts; "" for none. */
    public String prefill() {
        return prefill;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Grammar g && g.text.equals(text) && g.root.equals(root) && triggers().equals(g.triggers())
                && isLazy() == g.isLazy() && prefill.equals(g.prefill);
    }

    @Override
    public int hashCode() {
        return text.hashCode() * 31 + root.hashCode();
    }

    @Override
    public String toString() {
        return "Grammar[" + rules().size() + " rules, root " + root + (isLazy() ? ", lazy" : "") + "]";
    }
}
