package org.llamajava.internal;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a GBNF grammar the way llama.cpp's grammar parser ({@code llama_grammar_parser} and
 * {@code llama_grammar_init_impl} in {@code src/llama-grammar.cpp}) reads it, so that a grammar
 * that llama.cpp would reject, or that would make it abort, hang or overflow its stack, is refused
 * in Java with the problem and its line and column, before any native call.
 *
 * <p>A port of that parser over the grammar's UTF-8 bytes: the same syntax, the same rules it
 * synthesizes for groups and repetitions (so that left recursion is found as llama.cpp finds it),
 * the same limits. Stricter than llama.cpp where llama.cpp misbehaves: a repetition whose maximum
 * is below its minimum ({@code x{5,3}}, which makes llama.cpp loop for ever), NUL characters
 * (which would cut the grammar short), token ids past {@code int}, nesting deep enough to
 * overflow a native stack, and the empty text (which llama.cpp takes as no grammar at all). {@code GrammarFuzz} checks that the two agree on everything else.
 *
 * <p>Internal: not part of the API.
 */
public final class Gbnf {
    // element types, as llama_gretype
    static final int END = 0;
    static final int ALT = 1;
    static final int RULE_REF = 2;
    static final int CHAR = 3;
    static final int CHAR_NOT = 4;
    static final int CHAR_RNG_UPPER = 5;
    static final int CHAR_ALT = 6;
    static final int CHAR_ANY = 7;
    static final int TOKEN = 8;
    static final int TOKEN_NOT = 9;

    /** llama-grammar.cpp's MAX_REPETITION_THRESHOLD. */
    static final long MAX_REPETITION_THRESHOLD = 2000;
    /** Deepest nesting of groups, and longest chain of leftmost rule references, accepted. */
    public static final int MAX_DEPTH = 512;

    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final long NO_MAX = -1; // UINT64_MAX in llama.cpp

    /**
     * What a valid grammar holds.
     *
     * @param ruleNames the rules the grammar defines, in order of first appearance
     * @param tokens    the {@code <token>} references by text (each must be one token of the
     *                  model's vocabulary; checked when a sampler is built for a model)
     * @param tokenIds  the {@code <[id]>} references
     */
    public record Parsed(List<String> ruleNames, List<String> tokens, List<Integer> tokenIds) {}

    /** A grammar llama.cpp would not accept: the problem, and where. */
    public static final class Problem extends IllegalArgumentException {
        private final int line;
        private final int column;
        private final boolean stricter;

        Problem(String message, int line, int column, boolean stricter) {
            super(message);
            this.line = line;
            this.column = column;
            this.stricter = stricter;
        }

        /** 1-based line of the problem, or 0 if it concerns the whole grammar. */
        public int line() {
            return line;
        }

        /** 1-based column (in characters) of the problem, or 0. */
        public int column() {
            return column;
        }

        /**
         * True if llama.cpp itself would accept this grammar, but misbehave on it (loop, abort,
         * overflow its stack, read less than the text, or, for the empty text, constrain nothing).
         */
        public boolean stricterThanLlama() {
            return stricter;
        }
    }

    private final String text;
    private final byte[] src; // the grammar's UTF-8 bytes and a terminating 0
    private final Map<String, Integer> symbolIds = new LinkedHashMap<>();
    private final List<int[]> rules = new ArrayList<>();
    private final List<String> tokens = new ArrayList<>();
    private final List<Integer> tokenIds = new ArrayList<>();
    private int depth;
    private long steps;
    /** Most steps the left-recursion check may take (llama.cpp's takes as many, natively). */
    static final long MAX_STEPS = 20_000_000;

    private Gbnf(String text) {
        this.text = text;
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        this.src = new byte[b.length + 1];
        System.arraycopy(b, 0, src, 0, b.length);
    }

    /**
     * Parses a grammar as llama.cpp would with this root rule.
     *
     * @throws Problem if llama.cpp would reject it (or misbehave on it)
     */
    public static Parsed parse(String text, String root) {
        if (text == null) {
            throw new IllegalArgumentException("grammar text is null");
        }
        if (root == null || root.isEmpty()) {
            throw new IllegalArgumentException("the root rule name must not be empty");
        }
        Gbnf g = new Gbnf(text);
        int nul = text.indexOf('\0');
        if (nul >= 0) {
            throw g.problem("the grammar contains a NUL character (llama.cpp would stop reading there)", byteOffset(text, nul),
                    true);
        }
        g.parseAll();
        if (g.rules.isEmpty()) {
            // llama.cpp takes the empty string (only) as "no grammar": a sampler stage that constrains nothing
            throw new Problem("the grammar is empty: it defines no rule (e.g. root ::= \"yes\" | \"no\")", 0, 0,
                    text.isEmpty());
        }
        if (!g.symbolIds.containsKey(root)) {
            throw new Problem("the grammar has no rule '" + root + "' to start from", 0, 0, false);
        }
        g.checkLeftRecursion();
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, Integer> e : g.symbolIds.entrySet()) {
            if (e.getValue() < g.rules.size() && g.rules.get(e.getValue()) != null && !isGenerated(e.getKey(), g)) {
                names.add(e.getKey());
            }
        }
        return new Parsed(List.copyOf(names), List.copyOf(g.tokens), List.copyOf(g.tokenIds));
    }

    private static boolean isGenerated(String name, Gbnf g) {
        return g.generated.contains(name);
    }

    private final java.util.Set<String> generated = new java.util.HashSet<>();

    private static int byteOffset(String s, int charIndex) {
        return s.substring(0, charIndex).getBytes(StandardCharsets.UTF_8).length;
    }

    // ---- errors with positions ---------------------------------------------------------------

    private Problem problem(String what, int pos, boolean stricter) {
        int p = Math.max(0, Math.min(pos, src.length - 1));
        String before = new String(src, 0, p, StandardCharsets.UTF_8);
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < before.length(); i++) {
            if (before.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        int column = before.codePointCount(lineStart, before.length()) + 1;
        String rest = new String(src, p, src.length - 1 - p, StandardCharsets.UTF_8);
        int nl = rest.indexOf('\n');
        String near = nl >= 0 ? rest.substring(0, nl) : rest;
        if (near.length() > 40) {
            near = near.substring(0, 40) + "...";
        }
        String where = near.isEmpty() ? " (at the end)" : " near '" + near + "'";
        return new Problem("invalid grammar at line " + line + ", column " + column + ": " + what + where, line, column,
                stricter);
    }

    private Problem problem(String what, int pos) {
        return problem(what, pos, false);
    }

    // ---- the parser (llama_grammar_parser) -----------------------------------------------------

    private int b(int pos) {
        return src[pos] & 0xFF;
    }

    private static boolean isDigit(int c) {
        return '0' <= c && c <= '9';
    }

    private static boolean isWordChar(int c) {
        return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '-' || isDigit(c);
    }

    private int symbolId(String name) {
        Integer id = symbolIds.get(name);
        if (id == null) {
            id = symbolIds.size();
            symbolIds.put(name, id);
        }
        return id;
    }

    private int generateSymbolId(String base) {
        int next = symbolIds.size();
        String name = base + '_' + next;
        symbolIds.put(name, next);
        generated.add(name);
        return next;
    }

    private void addRule(int id, List<int[]> elems) {
        while (rules.size() <= id) {
            rules.add(null);
        }
        int[] flat = new int[elems.size() * 2];
        for (int i = 0; i < elems.size(); i++) {
            flat[2 * i] = elems.get(i)[0];
            flat[2 * i + 1] = elems.get(i)[1];
        }
        rules.set(id, flat);
    }

    private int parseSpace(int pos, boolean newlineOk) {
        while (b(pos) == ' ' || b(pos) == '\t' || b(pos) == '#' || (newlineOk && (b(pos) == '\r' || b(pos) == '\n'))) {
            if (b(pos) == '#') {
                while (b(pos) != 0 && b(pos) != '\r' && b(pos) != '\n') {
                    pos++;
                }
            } else {
                pos++;
            }
        }
        return pos;
    }

    private int parseName(int pos) {
        int p = pos;
        while (isWordChar(b(p))) {
            p++;
        }
        if (p == pos) {
            throw problem("expecting a rule name (letters, digits, '-')", pos);
        }
        return p;
    }

    private int parseInt(int pos) {
        int p = pos;
        while (isDigit(b(p))) {
            p++;
        }
        if (p == pos) {
            throw problem("expecting an integer", pos);
        }
        return p;
    }

    private String str(int from, int to) {
        return new String(src, from, to - from, StandardCharsets.UTF_8);
    }

    /** Parses a char or escape at pos; returns {code point, next pos}. */
    private int[] parseChar(int pos) {
        if (b(pos) == '\\') {
            switch (b(pos + 1)) {
                case 'x': return parseHex(pos + 2, 2, pos);
                case 'u': return parseHex(pos + 2, 4, pos);
                case 'U': return parseHex(pos + 2, 8, pos);
                case 't': return new int[] {'\t', pos + 2};
                case 'r': return new int[] {'\r', pos + 2};
                case 'n': return new int[] {'\n', pos + 2};
                case '\\':
                case '"':
                case '[':
                case ']':
                case '-':
                    return new int[] {b(pos + 1), pos + 2};
                default:
                    throw problem("unknown escape (known: \\x.. \\u.... \\U........ \\t \\r \\n \\\\ \\\" \\[ \\] \\-)", pos);
            }
        } else if (b(pos) != 0) {
            return decodeUtf8(pos);
        }
        throw problem("unexpected end of the grammar", pos);
    }

    private int[] parseHex(int pos, int size, int escapeStart) {
        int end = pos + size;
        int p = pos;
        long value = 0;
        for (; p < end && b(p) != 0; p++) {
            int c = b(p);
            value <<= 4;
            if ('a' <= c && c <= 'f') {
                value += c - 'a' + 10;
            } else if ('A' <= c && c <= 'F') {
                value += c - 'A' + 10;
            } else if ('0' <= c && c <= '9') {
                value += c - '0';
            } else {
                break;
            }
        }
        if (p != end) {
            throw problem("expecting " + size + " hex digits", escapeStart);
        }
        return new int[] {(int) value, p};
    }

    private int[] decodeUtf8(int pos) {
        int[] lookup = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
        int first = b(pos);
        int len = lookup[first >> 4];
        int mask = (1 << (8 - len)) - 1;
        int value = first & mask;
        int end = pos + len;
        int p = pos + 1;
        for (; p < end && b(p) != 0; p++) {
            value = (value << 6) + (b(p) & 0x3F);
        }
        return new int[] {value, p};
    }

    private void parseAll() {
        int pos = parseSpace(0, true);
        while (b(pos) != 0) {
            pos = parseRule(pos);
        }
        // every rule referenced must be defined
        for (int id = 0; id < rules.size(); id++) {
            if (rules.get(id) == null) {
                throw undefined(id);
            }
        }
        for (int[] rule : rules) {
            for (int i = 0; i < rule.length; i += 2) {
                if (rule[i] == RULE_REF && (rule[i + 1] >= rules.size() || rules.get(rule[i + 1]) == null)) {
                    throw undefined(rule[i + 1]);
                }
            }
        }
    }

    private Problem undefined(int id) {
        String name = "#" + id;
        for (Map.Entry<String, Integer> e : symbolIds.entrySet()) {
            if (e.getValue() == id) {
                name = e.getKey();
            }
        }
        int at = firstReference(name);
        if (at >= 0) {
            return problem("rule '" + name + "' is used but never defined (add: " + name + " ::= ...)", at);
        }
        return new Problem("invalid grammar: rule '" + name + "' is used but never defined", 0, 0, false);
    }

    private int firstReference(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + n.length <= src.length - 1; i++) {
            boolean match = true;
            for (int j = 0; j < n.length && match; j++) {
                match = src[i + j] == n[j];
            }
            if (match && (i == 0 || !isWordChar(b(i - 1))) && !isWordChar(b(i + n.length))) {
                return i;
            }
        }
        return -1;
    }

    private int parseRule(int pos) {
        int nameEnd = parseName(pos);
        int p = parseSpace(nameEnd, false);
        String name = str(pos, nameEnd);
        int ruleId = symbolId(name);
        if (!(b(p) == ':' && b(p + 1) == ':' && b(p + 2) == '=')) {
            throw problem("expecting '::=' after the rule name '" + name + "'", p);
        }
        p = parseSpace(p + 3, true);
        p = parseAlternates(p, name, ruleId, false);
        if (b(p) == '\r') {
            p += b(p + 1) == '\n' ? 2 : 1;
        } else if (b(p) == '\n') {
            p++;
        } else if (b(p) != 0) {
            throw problem("unexpected character: expecting a newline or the end of the rule", p);
        }
        return parseSpace(p, true);
    }

    private int parseAlternates(int pos, String ruleName, int ruleId, boolean nested) {
        List<int[]> rule = new ArrayList<>();
        int p = parseSequence(pos, ruleName, rule, nested);
        while (b(p) == '|') {
            rule.add(new int[] {ALT, 0});
            p = parseSpace(p + 1, true);
            p = parseSequence(p, ruleName, rule, nested);
        }
        rule.add(new int[] {END, 0});
        addRule(ruleId, rule);
        return p;
    }

    private int parseSequence(int pos, String ruleName, List<int[]> rule, boolean nested) {
        int[] lastSymStart = {rule.size()};
        long[] nPrevRules = {1};
        int p = pos;
        while (b(p) != 0) {
            int c = b(p);
            if (c == '"') {
                p++;
                lastSymStart[0] = rule.size();
                nPrevRules[0] = 1;
                while (b(p) != '"') {
                    if (b(p) == 0) {
                        throw problem("unexpected end of the grammar in a string: expecting '\"'", p);
                    }
                    int[] ch = parseChar(p);
                    p = ch[1];
                    rule.add(new int[] {CHAR, ch[0]});
                }
                p = parseSpace(p + 1, nested);
            } else if (c == '[') {
                int start = p;
                p++;
                int startType = CHAR;
                if (b(p) == '^') {
                    p++;
                    startType = CHAR_NOT;
                }
                lastSymStart[0] = rule.size();
                nPrevRules[0] = 1;
                while (b(p) != ']') {
                    if (b(p) == 0) {
                        throw problem("unexpected end of the grammar in a character class: expecting ']'", start);
                    }
                    int[] ch = parseChar(p);
                    p = ch[1];
                    int type = lastSymStart[0] < rule.size() ? CHAR_ALT : startType;
                    rule.add(new int[] {type, ch[0]});
                    if (b(p) == '-' && b(p + 1) != ']') {
                        if (b(p + 1) == 0) {
                            throw problem("unexpected end of the grammar in a character range", p);
                        }
                        int[] end = parseChar(p + 1);
                        p = end[1];
                        rule.add(new int[] {CHAR_RNG_UPPER, end[0]});
                    }
                }
                p = parseSpace(p + 1, nested);
            } else if (c == '<' || c == '!') {
                int type = TOKEN;
                if (c == '!') {
                    type = TOKEN_NOT;
                    p++;
                }
                int end = parseToken(p);
                lastSymStart[0] = rule.size();
                nPrevRules[0] = 1;
                rule.add(new int[] {type, 0});
                p = parseSpace(end, nested);
            } else if (isWordChar(c)) {
                int nameEnd = parseName(p);
                int ref = symbolId(str(p, nameEnd));
                p = parseSpace(nameEnd, nested);
                lastSymStart[0] = rule.size();
                nPrevRules[0] = 1;
                rule.add(new int[] {RULE_REF, ref});
            } else if (c == '(') {
                int open = p;
                if (++depth > MAX_DEPTH) {
                    throw problem("groups nest deeper than " + MAX_DEPTH + " levels", open, true);
                }
                p = parseSpace(p + 1, true);
                int before = symbolIds.size();
                int sub = generateSymbolId(ruleName);
                p = parseAlternates(p, ruleName, sub, true);
                nPrevRules[0] = Math.max(1, symbolIds.size() - before);
                lastSymStart[0] = rule.size();
                rule.add(new int[] {RULE_REF, sub});
                if (b(p) != ')') {
                    throw problem("expecting ')' to close the group opened at column " + column(open), p);
                }
                depth--;
                p = parseSpace(p + 1, nested);
            } else if (c == '.') {
                lastSymStart[0] = rule.size();
                nPrevRules[0] = 1;
                rule.add(new int[] {CHAR_ANY, 0});
                p = parseSpace(p + 1, nested);
            } else if (c == '*' || c == '+' || c == '?') {
                int at = p;
                p = parseSpace(p + 1, nested);
                repeat(rule, ruleName, lastSymStart, nPrevRules, c == '+' ? 1 : 0, c == '?' ? 1 : NO_MAX, at);
            } else if (c == '{') {
                int at = p;
                p = parseSpace(p + 1, nested);
                if (!isDigit(b(p))) {
                    throw problem("expecting a number after '{'", p);
                }
                int intEnd = parseInt(p);
                long min = toUint64(str(p, intEnd), p);
                p = parseSpace(intEnd, nested);
                long max = NO_MAX;
                if (b(p) == '}') {
                    max = min;
                    p = parseSpace(p + 1, nested);
                } else if (b(p) == ',') {
                    p = parseSpace(p + 1, nested);
                    if (isDigit(b(p))) {
                        int e = parseInt(p);
                        max = toUint64(str(p, e), p);
                        p = parseSpace(e, nested);
                    }
                    if (b(p) != '}') {
                        throw problem("expecting '}' to close the repetition", p);
                    }
                    p = parseSpace(p + 1, nested);
                } else {
                    throw problem("expecting ',' or '}' in the repetition", p);
                }
                if (Long.compareUnsigned(min, MAX_REPETITION_THRESHOLD) > 0) {
                    throw problem("the repetition's minimum is above llama.cpp's limit of " + MAX_REPETITION_THRESHOLD, at);
                }
                if (max != NO_MAX && Long.compareUnsigned(max, MAX_REPETITION_THRESHOLD) > 0) {
                    max = NO_MAX;
                }
                if (max != NO_MAX && Long.compareUnsigned(max, min) < 0) {
                    throw problem("the repetition's maximum " + max + " is below its minimum " + min, at, true);
                }
                repeat(rule, ruleName, lastSymStart, nPrevRules, min, max, at);
            } else {
                break;
            }
        }
        return p;
    }

    private int column(int pos) {
        String before = new String(src, 0, pos, StandardCharsets.UTF_8);
        int nl = before.lastIndexOf('\n');
        return before.codePointCount(nl + 1, before.length()) + 1;
    }

    private long toUint64(String digits, int pos) {
        BigInteger v = new BigInteger(digits);
        if (v.compareTo(UINT64_MAX) > 0) {
            throw problem("number too large", pos);
        }
        return v.longValue();
    }

    private int parseToken(int pos) {
        int p = pos;
        if (b(p) != '<') {
            throw problem("expecting '<' to start a token", p);
        }
        p++;
        if (b(p) == '[') {
            p++;
            int intEnd = parseInt(p);
            BigInteger id = new BigInteger(str(p, intEnd));
            if (id.compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0) {
                throw problem("token id " + id + " is out of range", p, id.compareTo(UINT64_MAX) <= 0);
            }
            p = intEnd;
            if (b(p) != ']') {
                throw problem("expecting ']' after the token id", p);
            }
            p++;
            if (b(p) != '>') {
                throw problem("expecting '>' to end the token", p);
            }
            p++;
            tokenIds.add(id.intValue());
            return p;
        }
        while (b(p) != 0 && b(p) != '>') {
            p++;
        }
        if (b(p) != '>') {
            throw problem("expecting '>' to end the token", p);
        }
        p++;
        tokens.add(str(pos, p));
        return p;
    }

    /** llama.cpp's handle_repetitions: rewrites the last symbol into repetition rules. */
    private void repeat(List<int[]> rule, String ruleName, int[] lastSymStart, long[] nPrevRules, long min, long max,
                        int at) {
        boolean noMax = max == NO_MAX;
        if (lastSymStart[0] == rule.size()) {
            throw problem("expecting an item before the repetition operator", at);
        }
        List<int[]> prev = new ArrayList<>(rule.subList(lastSymStart[0], rule.size()));
        long total = 1;
        if (!noMax && max > 0) {
            total = max;
        } else if (min > 0) {
            total = min;
        }
        if (nPrevRules[0] * total > MAX_REPETITION_THRESHOLD) {
            throw problem("the repetition would generate more than " + MAX_REPETITION_THRESHOLD
                    + " rules (llama.cpp's limit): reduce the repetition count or the group's complexity", at);
        }
        if (min == 0) {
            while (rule.size() > lastSymStart[0]) {
                rule.remove(rule.size() - 1);
            }
        } else {
            for (long i = 1; i < min; i++) {
                rule.addAll(prev);
            }
        }
        int lastRec = 0;
        long nOpt = noMax ? 1 : max - min;
        for (long i = 0; i < nOpt; i++) {
            List<int[]> rec = new ArrayList<>(prev);
            int recId = generateSymbolId(ruleName);
            if (i > 0 || noMax) {
                rec.add(new int[] {RULE_REF, noMax ? recId : lastRec});
            }
            rec.add(new int[] {ALT, 0});
            rec.add(new int[] {END, 0});
            addRule(recId, rec);
            lastRec = recId;
        }
        if (nOpt > 0) {
            rule.add(new int[] {RULE_REF, lastRec});
        }
        nPrevRules[0] *= total;
    }

    // ---- left recursion (llama_grammar_detect_left_recursion), without native recursion ------------

    private static boolean endOfSequence(int type) {
        return type == END || type == ALT;
    }

    private void checkLeftRecursion() {
        int n = rules.size();
        boolean[] visited = new boolean[n];
        boolean[] inProgress = new boolean[n];
        boolean[] mayBeEmpty = new boolean[n];
        for (int i = 0; i < n; i++) {
            int recursive = visited[i] ? -1 : detect(i, visited, inProgress, mayBeEmpty);
            if (recursive >= 0) {
                String name = nameOf(recursive);
                String base = baseName(name);
                int at = firstDefinition(base);
                String what = "left recursion in rule '" + base + "': llama.cpp's grammars cannot start a rule with"
                        + " itself (directly or through rules that may be empty); rewrite it with repetition, e.g."
                        + " list ::= item (\",\" item)*";
                if (at >= 0) {
                    throw problem(what, at);
                }
                throw new Problem("invalid grammar: " + what, 0, 0, false);
            }
        }
    }

    /**
     * The recursive detection of llama.cpp as an explicit-stack walk; deep chains are refused.
     * Returns the rule found to recurse on itself, or -1.
     */
    private int detect(int start, boolean[] visited, boolean[] inProgress, boolean[] mayBeEmpty) {
        // frame: rule index, element index, recurse flag
        int[] fRule = new int[16];
        int[] fElem = new int[16];
        boolean[] fRecurse = new boolean[16];
        int top = -1;
        // enter(start)
        if (inProgress[start]) {
            return start;
        }
        top++;
        enter(start, inProgress, mayBeEmpty);
        fRule[top] = start;
        fElem[top] = 0;
        fRecurse[top] = true;
        Integer returnedFrom = null;
        while (top >= 0) {
            int r = fRule[top];
            int[] rule = rules.get(r);
            if (returnedFrom != null) {
                // after recursing into rule[fElem] (which returned false)
                if (!mayBeEmpty[returnedFrom]) {
                    fRecurse[top] = false;
                }
                fElem[top] += 2;
                returnedFrom = null;
            }
            boolean descended = false;
            while (fElem[top] < rule.length) {
                if (++steps > MAX_STEPS) {
                    throw new Problem("invalid grammar: too many ways for rules to start with other rules that may be"
                            + " empty (llama.cpp's left-recursion check would take very long); simplify the grammar",
                            0, 0, true);
                }
                int i = fElem[top];
                int type = rule[i];
                if (type == RULE_REF && fRecurse[top]) {
                    int child = rule[i + 1];
                    if (inProgress[child]) {
                        return child;
                    }
                    if (top + 1 >= MAX_DEPTH) {
                        throw new Problem("invalid grammar: rule '" + baseName(nameOf(r)) + "' starts a chain of more than "
                                + MAX_DEPTH + " rules, each the first item of the last; shorten the chain", 0, 0, true);
                    }
                    if (++top == fRule.length) {
                        fRule = java.util.Arrays.copyOf(fRule, top * 2);
                        fElem = java.util.Arrays.copyOf(fElem, top * 2);
                        fRecurse = java.util.Arrays.copyOf(fRecurse, top * 2);
                    }
                    enter(child, inProgress, mayBeEmpty);
                    fRule[top] = child;
                    fElem[top] = 0;
                    fRecurse[top] = true;
                    descended = true;
                    break;
                } else if (endOfSequence(type)) {
                    fRecurse[top] = true;
                } else {
                    fRecurse[top] = false;
                }
                fElem[top] += 2;
            }
            if (descended) {
                continue;
            }
            inProgress[r] = false;
            visited[r] = true;
            top--;
            returnedFrom = r;
        }
        return -1;
    }

    private void enter(int r, boolean[] inProgress, boolean[] mayBeEmpty) {
        inProgress[r] = true;
        int[] rule = rules.get(r);
        boolean atStart = true;
        for (int i = 0; i < rule.length; i += 2) {
            if (endOfSequence(rule[i])) {
                if (atStart) {
                    mayBeEmpty[r] = true;
                    break;
                }
                atStart = true;
            } else {
                atStart = false;
            }
        }
    }

    private String nameOf(int id) {
        for (Map.Entry<String, Integer> e : symbolIds.entrySet()) {
            if (e.getValue() == id) {
                return e.getKey();
            }
        }
        return "#" + id;
    }

    private String baseName(String name) {
        return generated.contains(name) ? name.substring(0, name.lastIndexOf('_')) : name;
    }

    private int firstDefinition(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + n.length <= src.length - 1; i++) {
            boolean match = (i == 0 || src[i - 1] == '\n' || src[i - 1] == '\r');
            for (int j = 0; j < n.length && match; j++) {
                match = src[i + j] == n[j];
            }
            if (match && !isWordChar(b(i + n.length))) {
                return i;
            }
        }
        return firstReference(name);
    }

    @Override
    public String toString() {
        return "Gbnf[" + text.length() + " chars]";
    }
}
