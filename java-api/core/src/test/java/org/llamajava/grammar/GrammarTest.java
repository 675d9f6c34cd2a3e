package org.llamajava.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.internal.Gbnf;

/** Grammars: checked like llama.cpp reads them, and constraining generation as documented. */
class GrammarTest {
    @TempDir
    static Path tmp;
    static Model model;

    @BeforeAll
    static void load() {
        Path p = tmp.resolve("grammar.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(21).scale(3f).write(p);
        model = Model.load(p);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Completion generate(Model m, String prompt, Sampler.Builder b, int n) {
        try (Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler sampler = b.build(m)) {
            return s.generate(m.vocabulary().tokenize(prompt, true, true), sampler, GenerateOptions.maxTokens(n));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '\'', value = {
        "root ::= \"a\" | bad-rule => line 1, column 16: rule 'bad-rule' is used but never defined",
        "root ::= x\\nx ::= x \"a\" => line 2, column 1: left recursion in rule 'x'",
        "root ::= (root \"a\")? \"b\" => left recursion in rule 'root'",
        "root ::= \"a => line 1, column 12: unexpected end of the grammar in a string",
        "root ::= [a-z => line 1, column 10: unexpected end of the grammar in a character class",
        "root = \"a\" => line 1, column 6: expecting '::=' after the rule name 'root'",
        "root ::= \"a\" ) => line 1, column 14: unexpected character",
        "root ::= \"\\q\" => line 1, column 11: unknown escape",
        "root ::= \"\\x4\" => line 1, column 11: expecting 2 hex digits",
        "root ::= * \"a\" => line 1, column 10: expecting an item before the repetition operator",
        "root ::= \"a\"{5,3} => line 1, column 13: the repetition's maximum 3 is below its minimum 5",
        "root ::= \"a\"{2001} => line 1, column 13: the repetition's minimum is above llama.cpp's limit of 2000",
        "root ::= (\"a\" => line 1, column 14: expecting ')' to close the group opened at column 10",
        "'   # only a comment' => the grammar is empty",
        "start ::= \"a\" => the grammar has no rule 'root' to start from",
        "root ::= <[99999999999]> => line 1, column 12: token id 99999999999 is out of range",
    })
    void invalidGrammarsNameTheProblemAndWhere(String text, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Grammar.gbnf(text.replace("\\n", "\n")));
        assertTrue(e.getMessage().contains(expected), () -> "message: " + e.getMessage());
    }

    @Test
    void deepNestingAndLongChainsAreRefusedBeforeNativeCode() {
        String deep = "root ::= " + "(".repeat(Gbnf.MAX_DEPTH + 1) + "\"a\"" + ")".repeat(Gbnf.MAX_DEPTH + 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Grammar.gbnf(deep)).getMessage()
                .contains("nest deeper"));
        StringBuilder chain = new StringBuilder("root ::= r0\n");
        for (int i = 0; i < Gbnf.MAX_DEPTH + 10; i++) {
            chain.append("r").append(i).append(" ::= r").append(i + 1).append(" \"x\"\n");
        }
        chain.append("r").append(Gbnf.MAX_DEPTH + 10).append(" ::= \"y\"\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Grammar.gbnf(chain.toString())).getMessage()
                .contains("chain of more than"));
        assertThrows(IllegalArgumentException.class, () -> Grammar.gbnf("root ::= \"a\0b\""));
    }

    @Test
    void validGrammarsListTheirRules() {
        Grammar g = Grammar.gbnf("# a comment\nroot ::= answer \" \" answer*\nanswer ::= (\"yes\" | \"no\"){1,3} [a-z]?\n");
        assertEquals(List.of("root", "answer"), g.rules());
        assertFalse(g.isLazy());
        assertEquals(List.of("answer", "root"), Grammar.gbnf("answer ::= \"a\"\nroot ::= answer").rules());
        Grammar other = Grammar.gbnf("doc ::= \"x\"", "doc");
        assertEquals("doc", other.root());
    }

    @Test
    void grammarFromFile() throws Exception {
        Path f = tmp.resolve("g.gbnf");
        Files.writeString(f, "root ::= \"ok\"\n");
        assertEquals("root ::= \"ok\"\n", Grammar.fromFile(f).text());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Grammar.fromFile(tmp.resolve("missing.gbnf")));
        assertTrue(e.getMessage().contains("no such grammar file"));
        Files.writeString(f, "root ::= nope\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Grammar.fromFile(f)).getMessage()
                .startsWith(f.toString()));
    }

    @Test
    void everySeedAtTemperatureOneFollowsTheGrammar() {
        Grammar g = Grammar.gbnf("root ::= (\"yes\" | \"no\") \" \" [a-z]{2,4} \".\"");
        Set<String> seen = new HashSet<>();
        for (int seed = 1; seed <= 24; seed++) {
            Completion c = generate(model, "Once upon a time", Sampler.builder().temperature(1f).dist(seed)
                    .grammar(g), 16);
            assertTrue(c.text().matches("(yes|no) [a-z]{2,4}\\."), "seed " + seed + ": " + c.text());
            assertEquals(FinishReason.END_OF_GENERATION, c.finishReason(), "a complete grammar allows only EOG");
            seen.add(c.text());
        }
        assertTrue(seen.size() > 3, "the seeds give different texts: " + seen);
    }

    @Test
    void aGrammarNoTokenCanFollowEndsWithGrammarRejected() throws Exception {
        // a byte-fallback vocabulary without the byte 'c' and without any piece holding it
        Path p = TestSupport.writeModelWithoutByteC(tmp);
        try (Model m = Model.load(p)) {
            Completion c = generate(m, "ab", Sampler.builder().greedy().grammar(Grammar.gbnf("root ::= \"ab\" \"c\"")), 8);
            assertEquals(FinishReason.GRAMMAR_REJECTED, c.finishReason());
            assertEquals("ab", c.text(), "what the grammar allowed before it ran out of tokens");
        }
    }

    @Test
    void tokenReferencesAreCheckedAgainstTheVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sampler.builder().grammar(Grammar.gbnf("root ::= <[99999]>")).build(model));
        assertTrue(e.getMessage().contains("outside this model's vocabulary"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Sampler.builder().grammar(Grammar.gbnf("root ::= <the girl>")).build(model));
        assertTrue(e.getMessage().contains("not one"), e.getMessage());
        int girl = -1;
        for (int i = 0; i < model.vocabulary().size() && girl < 0; i++) {
            girl = model.vocabulary().tokenPiece(i).equals(" girl") ? i : -1;
        }
        Completion c = generate(model, "Once", Sampler.builder().greedy().grammar(Grammar.gbnf("root ::= <[" + girl + "]>")), 4);
        assertEquals(" girl", c.text());
        assertEquals(FinishReason.END_OF_GENERATION, c.finishReason());
        int eos = model.vocabulary().eos();
        c = generate(model, "Once", Sampler.builder().greedy().grammar(Grammar.gbnf("root ::= <[" + eos + "]>")), 4);
        assertEquals(FinishReason.GRAMMAR_REJECTED, c.finishReason(),
                "llama.cpp allows end-of-generation tokens only once the grammar is complete, never as a token rule");
        assertThrows(IllegalStateException.class, () -> Sampler.builder().grammar(Grammar.gbnf("root ::= \"a\"")).build(),
                "a grammar needs the model's vocabulary");
    }

    @Test
    void lazyGrammarsConstrainFromTheirTriggerOn() {
        Sampler.Builder greedy = Sampler.builder().greedy();
        Completion free = generate(model, "Once upon a time", greedy, 12);
        int[] t = free.tokens();
        // the first token whose piece is new to the text: the trigger
        int at = -1;
        StringBuilder before = new StringBuilder();
        for (int i = 1; i < t.length && at < 0; i++) {
            String piece = model.vocabulary().tokenPiece(t[i]);
            String prior = before.toString() + model.vocabulary().tokenPiece(t[i - 1]);
            before.setLength(0);
            before.append(prior);
            if (!piece.isBlank() && !prior.contains(piece)) {
                at = i;
            }
        }
        assertTrue(at > 0, "no usable trigger in " + free.text());
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < at; i++) {
            prefix.append(model.vocabulary().tokenPiece(t[i]));
        }
        String piece = model.vocabulary().tokenPiece(t[at]);

        Grammar byToken = Grammar.gbnf("root ::= <[" + t[at] + "]> \"!!\"").lazy(GrammarTrigger.token(t[at]));
        Completion c = generate(model, "Once upon a time", Sampler.builder().greedy().grammar(byToken), 12);
        assertEquals(prefix + piece + "!!", c.text(), "free until the trigger token, then the grammar");
        assertEquals(FinishReason.END_OF_GENERATION, c.finishReason());

        Grammar byWord = Grammar.gbnf("root ::= " + quote(piece) + " \"??\"").lazy(GrammarTrigger.word(piece));
        c = generate(model, "Once upon a time", Sampler.builder().greedy().grammar(byWord), 12);
        assertEquals(prefix + piece + "??", c.text(), "free until the trigger word, then the grammar");

        Grammar never = Grammar.gbnf("root ::= \"zzz\"").lazy(GrammarTrigger.word("no such text here"));
        assertEquals(free.text(), generate(model, "Once upon a time", Sampler.builder().greedy().grammar(never), 12)
                .text(), "no trigger: no constraint");
    }

    @Test
    void resetStartsTheGrammarAgain() {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler sampler = Sampler.builder().greedy().grammar(Grammar.gbnf("root ::= \"ok\"")).build(model)) {
            assertTrue(sampler.hasGrammar());
            int[] prompt = model.vocabulary().tokenize("Once", true, true);
            assertEquals("ok", s.generate(prompt, sampler, GenerateOptions.maxTokens(8)).text());
            // the grammar is complete: only end of generation
            assertEquals("", s.generate(prompt, sampler, GenerateOptions.maxTokens(8)).text());
            sampler.reset();
            assertEquals("ok", s.generate(prompt, sampler, GenerateOptions.maxTokens(8)).text());
        }
    }

    @Test
    void badTriggersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> GrammarTrigger.pattern("(unclosed"));
        assertThrows(IllegalArgumentException.class, () -> GrammarTrigger.word(""));
        assertThrows(IllegalArgumentException.class, () -> GrammarTrigger.token(-3));
        assertThrows(IllegalArgumentException.class, () -> Grammar.gbnf("root ::= \"a\"").lazy(List.of()));
        assertEquals("\\[x\\]\\.\\*", GrammarTrigger.word("[x].*").regex());
        assertEquals("^a.*$", GrammarTrigger.patternFull("a.*").regex());
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\' || ch == '[' || ch == ']') {
                b.append('\\');
            }
            b.append(ch);
        }
        return b.append('"').toString();
    }
}
