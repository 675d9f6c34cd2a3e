package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.grammar.Grammar;
import org.llamajava.internal.Gbnf;

/**
 * A short differential fuzzing run of the GBNF checker in CI ({@link GrammarFuzz}, Jazzer in a
 * child JVM): it must execute inputs and find nothing (no grammar Java accepts and llama.cpp
 * rejects, no crash). The budget is {@code -Dllama.fuzz.smoke.seconds} (default 30); seeded with
 * llama.cpp's own {@code grammars/*.gbnf} from the pinned source when it is there;
 * {@code -Dllama.fuzz.dir} keeps the run's corpus, findings and reports.
 */
class GrammarFuzzSmokeTest {
    @TempDir
    Path dir;

    @Test
    void llamaCppsExampleGrammarsAreAcceptedByBoth() throws Exception {
        List<Path> grammars = GrammarFuzz.llamaGrammars(TestSupport.llamaSource());
        assertFalse(grammars.isEmpty(), "no grammars/*.gbnf in " + TestSupport.llamaSource());
        GrammarFuzzTarget.init(dir.resolve("input.gbnf"));
        for (Path g : grammars) {
            String text = Files.readString(g);
            assertDoesNotThrow(() -> Grammar.gbnf(text), g.toString());
            assertTrue(GrammarFuzzTarget.nativeAccepts(text), g + " is refused by llama.cpp");
            assertDoesNotThrow(() -> GrammarFuzzTarget.run(text), g.toString());
        }
        for (String seed : GrammarFuzz.SEEDS) {
            assertDoesNotThrow(() -> GrammarFuzzTarget.run(seed), seed);
        }
    }

    @Test
    void refusalsAgreeWithLlamaCpp() {
        GrammarFuzzTarget.init(dir.resolve("input.gbnf"));
        List<String> invalid = List.of("root ::= \"a\" | bad-rule", "root ::= x\nx ::= x \"a\"", "root ::= (root \"a\")? \"b\"",
                "root ::= \"a", "root ::= [a-z", "root = \"a\"", "root ::= \"a\" )", "root ::= \"\\q\"", "root ::= \"\\x4\"",
                "root ::= * \"a\"", "root ::= \"a\"{2001}", "root ::= (\"a\"", "   # only a comment", "start ::= \"a\"",
                "root ::= \"a\"{5,3}", "root ::= \"a\0b\"", "");
        for (String text : invalid) {
            Gbnf.Problem p = assertThrows(Gbnf.Problem.class, () -> Grammar.gbnf(text), text);
            if (!p.stricterThanLlama()) {
                assertFalse(GrammarFuzzTarget.nativeAccepts(text), "Java refuses, llama.cpp accepts: " + text);
            }
        }
        // found by fuzzing: llama.cpp takes the empty text as no grammar at all (a stage that constrains nothing)
        assertTrue(GrammarFuzzTarget.nativeAccepts(""));
        assertTrue(assertThrows(Gbnf.Problem.class, () -> Grammar.gbnf("")).stricterThanLlama());
    }

    @Test
    void shortFuzzRunFindsNothing() throws Exception {
        long seconds = Long.getLong("llama.fuzz.smoke.seconds", 30);
        String keep = System.getProperty("llama.fuzz.dir"); // to keep corpus and reports of a longer run
        Path dir = keep == null ? this.dir : Files.createDirectories(Path.of(keep));
        GgufFuzz.Report r = GrammarFuzz.run(dir, seconds, TestSupport.llamaSource());
        System.out.println("grammar fuzz smoke: " + seconds + " s, " + r + ", " + GrammarFuzz.refusedAccepted(dir)
                + " refused by Java and accepted by llama.cpp");
        assertTrue(r.executions() > 100, "the fuzzer ran too few inputs: " + r);
        assertTrue(r.corpus() > 0, "no corpus: " + r);
        assertTrue(r.clean(), "fuzzing found something (see the logs and findings under " + dir + "): " + r);
    }
}
