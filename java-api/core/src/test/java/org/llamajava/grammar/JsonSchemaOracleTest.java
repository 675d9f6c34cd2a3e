package org.llamajava.grammar;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llamajava.TestSupport;
import org.llamajava.internal.Json;

/**
 * JSON Schema to GBNF equals llama.cpp's converter for every case of the pinned source's
 * {@code tests/test-json-schema-to-grammar.cpp}: the cases are read by
 * {@code llamajava-json-schema-cases}, a tool compiled from that very file (not copied), and
 * compared as that test compares them (trimmed, leading indentation removed). Cases llama.cpp
 * expects to fail must fail here with {@link IllegalArgumentException}. Every grammar the
 * converter makes must also pass llama-java's own GBNF check.
 */
class JsonSchemaOracleTest {

    record Case(String name, boolean success, String schema, String grammar) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() throws Exception {
        TestSupport.Run run = TestSupport.runTool("llamajava-json-schema-cases");
        assertEquals(0, run.exitCode(), "the case dump failed: " + run.stderr());
        List<Case> cases = new ArrayList<>();
        for (String line : run.stdout().split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = Json.parse(line, "case");
            cases.add(new Case(n.get("name").asText(), n.get("status").asText().equals("success"),
                    n.get("schema").asText(), n.get("grammar").asText()));
        }
        return cases;
    }

    static Stream<Case> allCases() throws Exception {
        return cases().stream();
    }

    /** test-json-schema-to-grammar.cpp's trim(). */
    static String trim(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && " \n\r\t".indexOf(s.charAt(a)) >= 0) {
            a++;
        }
        while (b > a && " \n\r\t".indexOf(s.charAt(b - 1)) >= 0) {
            b--;
        }
        return s.substring(a, b).replaceAll("(^|\n)[ \t]+", "$1");
    }

    @Test
    void theOracleHasTheCases() throws Exception {
        List<Case> all = cases();
        assertTrue(all.size() >= 70, "expected the ~80 cases of test-json-schema-to-grammar.cpp, got " + all.size());
        assertTrue(all.stream().anyMatch(c -> !c.success()), "some cases are expected to fail");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allCases")
    void grammarEqualsLlamaCpps(Case c) {
        if (!c.success()) {
            assertThrows(IllegalArgumentException.class, () -> JsonSchema.of(c.schema()).toGbnf(),
                    "llama.cpp's test expects this schema to fail");
            return;
        }
        String actual = JsonSchema.of(c.schema()).toGbnf();
        assertEquals(c.grammar(), trim(actual));
        assertDoesNotThrow(() -> Grammar.gbnf(actual), "llama-java's GBNF check refuses llama.cpp's grammar");
    }
}
