package org.llamajava.grammar;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What starts a lazy {@link Grammar}: until a trigger appears in the generated text, the model
 * generates freely; from the trigger on, the grammar constrains it (as llama-server does for tool
 * calls).
 *
 * @param type  what {@code value} is
 * @param value the word, or the regular expression (ECMAScript syntax, as llama.cpp's
 *              {@code std::regex}); for a {@link Type#TOKEN} trigger its text, may be empty
 * @param token the token id of a {@link Type#TOKEN} trigger, else -1
 */
public record GrammarTrigger(Type type, String value, int token) {

    /** Kinds of trigger, as llama.cpp's {@code common_grammar_trigger_type}. */
    public enum Type {
        /** A literal word anywhere in the text; the grammar starts at the word. */
        WORD,
        /**
         * A regular expression searched in the text; the grammar starts at its first non-empty
         * capturing group (or the whole match).
         */
        PATTERN,
        /** A regular expression that must match the whole text generated so far. */
        PATTERN_FULL,
        /** One token id. */
        TOKEN
    }

    public GrammarTrigger {
        if (type == null) {
            throw new IllegalArgumentException("trigger type is null");
        }
        if (value == null) {
            value = "";
        }
        if (type == Type.TOKEN) {
            if (token < 0) {
                throw new IllegalArgumentException("a token trigger needs a token id >= 0; got " + token);
            }
        } else {
            if (token != -1) {
                throw new IllegalArgumentException("only a TOKEN trigger has a token id");
            }
            if (value.isEmpty() && type == Type.WORD) {
                throw new IllegalArgumentException("a word trigger must not be empty");
            }
            if (value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a trigger must not contain NUL characters");
            }
            if (type != Type.WORD) {
                try {
                    Pattern.compile(value);
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("invalid trigger pattern '" + value + "': " + e.getDescription()
                            + " at index " + e.getIndex(), e);
                }
            }
        }
    }

    /** The grammar starts where this word appears. */
    public static GrammarTrigger word(String word) {
        return new GrammarTrigger(Type.WORD, word, -1);
    }

    /** The grammar starts where this regular expression matches (at its first capturing group, if any). */
    public static GrammarTrigger pattern(String regex) {
        return new GrammarTrigger(Type.PATTERN, regex, -1);
    }

    /** The grammar starts once the whole text so far matches this regular expression. */
    public static GrammarTrigger patternFull(String regex) {
        return new GrammarTrigger(Type.PATTERN_FULL, regex, -1);
    }

    /** The grammar starts at this token. */
    public static GrammarTrigger token(int id) {
        return new GrammarTrigger(Type.TOKEN, "", id);
    }

    /**
     * The regular expression llama.cpp matches for this trigger (common_sampler_init's conversion:
     * words escaped, full patterns anchored), or null for a token trigger.
     */
    public String regex() {
        return switch (type) {
            case WORD -> escape(value);
            case PATTERN -> value;
            case PATTERN_FULL -> value.isEmpty() ? "^$"
                    : (value.charAt(0) != '^' ? "^" : "") + value + (value.charAt(value.length() - 1) != '$' ? "$" : "");
            case TOKEN -> null;
        };
    }

    /** llama.cpp's regex_escape: a backslash before each of {@code .^$|()*+?[]{}\}. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (".^$|()*+?[]{}\\".indexOf(c) >= 0) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }
}
