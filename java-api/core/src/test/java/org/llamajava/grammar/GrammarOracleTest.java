package org.llamajava.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;

/**
 * Grammar-constrained generation through llama-java equals llama.cpp's own
 * {@code llama-completion --grammar/--json-schema} (built from the same source) for the same
 * model, prompt, sampler chain and seed: greedy, and seeded sampling at temperature 0.8.
 */
class GrammarOracleTest {
    static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},"
            + "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":120},\"tags\":{\"type\":\"array\",\"maxItems\":2,"
            + "\"items\":{\"enum\":[\"a\",\"b\"]}}},\"required\":[\"name\",\"age\",\"tags\"],\"additionalProperties\":false}";
    static final String GBNF = "root ::= \"The answer is \" (\"yes\" | \"no\" | [0-9]{1,3}) \".\"";

    @ParameterizedTest(name = "{0} temp {1} seed {2}")
    @CsvSource({"schema, 0, 1", "schema, 0.8, 42", "schema, 0.8, 7", "gbnf, 0, 1", "gbnf, 0.8, 3"})
    void constrainedGenerationEqualsLlamaCompletion(String kind, float temp, int seed) throws Exception {
        Path model = TestSupport.sharedModel("llama-2-tiny-random.gguf");
        String prompt = "Hello";
        int n = 64;
        List<String> args = new ArrayList<>(List.of("-m", model.toString(), "-p", prompt, "-n", Integer.toString(n),
                "--seed", Integer.toString(seed), "-t", "1", "-no-cnv", "--no-display-prompt", "--simple-io",
                "--no-warmup", "--samplers", "top_k;top_p;min_p;temperature", "--top-k", "40", "--top-p", "0.95",
                "--min-p", "0.05", "--temp", Float.toString(temp)));
        args.addAll(kind.equals("schema") ? List.of("--json-schema", SCHEMA) : List.of("--grammar", GBNF));
        String expected = llamaCompletion(args);
        assertTrue(expected.startsWith(kind.equals("schema") ? "{" : "The answer is "), expected);

        Grammar g = kind.equals("schema") ? JsonSchema.of(SCHEMA).toGrammar() : Grammar.gbnf(GBNF);
        Sampler.Builder b = Sampler.builder().topK(40).topP(0.95f).minP(0.05f).temperature(temp).dist(seed).grammar(g);
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(512).threads(1).build());
             Sequence s = ctx.newSequence();
             Sampler sampler = b.build(m)) {
            Completion c = s.generate(m.vocabulary().tokenize(prompt, true, true), sampler, GenerateOptions.maxTokens(n));
            assertEquals(expected, c.text(), "llama-java differs from llama-completion");
        }
    }

    /** llama-completion's text, retried while its asynchronous logger drops the tail (see CliGenerateOracleTest). */
    static String llamaCompletion(List<String> args) throws Exception {
        TestSupport.Run last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            TestSupport.Run r = TestSupport.runTool("llama-completion", args.toArray(String[]::new));
            if (r.exitCode() != 0) {
                fail("llama-completion failed: " + r.stderr());
            }
            last = r;
            if (r.stdout().endsWith("\n\n") && r.stderr().contains("common_perf_print")) {
                String text = r.stdout().substring(0, r.stdout().length() - 2);
                String eot = " [end of text]\n";
                return text.endsWith(eot) ? text.substring(0, text.length() - eot.length()) : text;
            }
        }
        fail("llama-completion's output was cut short 5 times: " + last.stdout() + "\n" + last.stderr());
        return null;
    }
}
