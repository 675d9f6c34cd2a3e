package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's structured-output flags: {@code json-schema-to-grammar} prints llama.cpp's grammar (its
 * own converter's output, as dumped by the oracle tool built from test-json-schema-to-grammar.cpp),
 * {@code generate} follows {@code --grammar}/{@code --grammar-file}/{@code -j}/{@code -jf}, and
 * {@code chat} takes {@code --tools}, {@code --reasoning-format} and {@code --reasoning-budget}; bad input is a
 * one-line error.
 */
class CliGrammarTest {
    @TempDir
    static Path tmp;

    static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"},"
            + "\"n\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":99}},\"required\":[\"ok\",\"n\"],"
            + "\"additionalProperties\":false}";

    @Test
    void jsonSchemaToGrammarPrintsLlamaCppsGrammar() throws Exception {
        CliTestSupport.Result cases = CliTestSupport.runTool("llamajava-json-schema-cases", tmp);
        assertEquals(0, cases.exitCode(), cases.stderr());
        JsonNode first = new ObjectMapper().readTree(cases.stdout().lines().filter(l -> l.contains("\"success\""))
                .findFirst().orElseThrow());
        Path schema = tmp.resolve("schema.json");
        Files.writeString(schema, first.get("schema").asText());
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "json-schema-to-grammar", schema.toString());
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(first.get("grammar").asText(), r.stdout().strip().replaceAll("(^|\n)[ \t]+", "$1"));

        CliTestSupport.Result stdin = CliTestSupport.runCliWithInput(tmp, "{\"type\": \"boolean\"}", "json-schema-to-grammar", "-");
        assertEquals(0, stdin.exitCode(), stdin.stderr());
        assertTrue(stdin.stdout().contains("root ::= (\"true\" | \"false\")"), stdin.stdout());

        CliTestSupport.Result bad = CliTestSupport.runCliWithInput(tmp, "{\"type\": \"kaboom\"}", "json-schema-to-grammar", "-");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.stderr().startsWith("error: llama.cpp cannot turn this JSON Schema into a grammar"), bad.stderr());
    }

    @Test
    void generateFollowsGrammarsAndSchemas() throws Exception {
        Path model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Result yn = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "Once upon a time",
                "-n", "16", "--seed", "1", "--grammar", "root ::= (\"yes\" | \"no\") \".\"");
        assertEquals(0, yn.exitCode(), yn.stderr());
        assertTrue(yn.stdout().strip().matches("(yes|no)\\."), yn.stdout());

        Path gbnf = tmp.resolve("g.gbnf");
        Files.writeString(gbnf, "root ::= [a-c]{3}\n");
        CliTestSupport.Result file = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "Once",
                "-n", "8", "--temp", "0", "--grammar-file", gbnf.toString());
        assertTrue(file.stdout().strip().matches("[a-c]{3}"), file.stdout());

        for (String[] flag : new String[][] {{"-j", SCHEMA}, {"-jf", write("s.json", SCHEMA).toString()}}) {
            CliTestSupport.Result j = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "JSON:",
                    "-n", "64", "--seed", "3", flag[0], flag[1]);
            assertEquals(0, j.exitCode(), j.stderr());
            JsonNode n = new ObjectMapper().readTree(j.stdout());
            assertTrue(n.get("ok").isBoolean() && n.get("n").isInt() && n.size() == 2, j.stdout());
        }
    }

    @Test
    void badGrammarFlagsAreOneLineErrors() throws Exception {
        Path model = CliTestSupport.model("stories260K.gguf");
        CliTestSupport.Result r = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "x",
                "--grammar", "root ::= undefined-rule");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().startsWith("error: invalid grammar at line 1, column 10: rule 'undefined-rule'"), r.stderr());
        r = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "x", "--grammar", "root ::= \"a\"",
                "-j", "{}");
        assertEquals(2, r.exitCode(), r.stderr());
        r = CliTestSupport.runCli(tmp, "generate", "-m", model.toString(), "-p", "x", "-j", "{not json");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("not valid JSON"), r.stderr());
        r = CliTestSupport.runCli(tmp, "chat", "-m", model.toString(), "--tools", write("bad-tools.json",
                "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"string\"}}}]").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("must be an object schema"), r.stderr());
        r = CliTestSupport.runCli(tmp, "chat", "-m", model.toString(), "--reasoning-format", "sideways");
        assertEquals(2, r.exitCode(), r.stderr());
        r = CliTestSupport.runCli(tmp, "chat", "-m", model.toString(), "--reasoning-budget", "lots");
        assertEquals(2, r.exitCode(), r.stderr());
        r = CliTestSupport.runCli(tmp, "chat", "-m", model.toString(), "--reasoning-budget-message", "stop");
        assertEquals(2, r.exitCode(), r.stderr());
    }

    @Test
    void chatWithAReasoningBudget() throws Exception {
        // DeepSeek R1's prompt opens the thinking block; a budget of 0 forces the message and the end tag at once
        Path model = CliTestSupport.model("stories260K.gguf");
        Path template = CliTestSupport.llamaSource().resolve("models/templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja");
        CliTestSupport.Result r = CliTestSupport.runCliWithInput(tmp, "Hello\n", "chat", "-m", model.toString(),
                "--chat-template", template.toString(), "--reasoning-format", "deepseek", "--reasoning-budget", "0",
                "--reasoning-budget-message", "Time is up.", "-n", "24", "--seed", "2");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("Time is up."), "the forced message is the reasoning, on stderr: " + r.stderr());
        assertTrue(!r.stdout().contains("</think>"), r.stdout());
    }

    @Test
    void chatWithToolsAndReasoningFormat() throws Exception {
        Path model = CliTestSupport.model("stories260K.gguf");
        Path tools = write("tools.json", "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                + "\"description\":\"weather\",\"parameters\":" + SCHEMA + "}}]");
        Path template = CliTestSupport.llamaSource().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
        CliTestSupport.Result r = CliTestSupport.runCliWithInput(tmp, "Hello\n", "chat", "-m", model.toString(),
                "--chat-template", template.toString(), "--tools", tools.toString(), "--reasoning-format", "deepseek",
                "-n", "24", "--seed", "2");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().endsWith("\n\n"), "a reply, then an empty line: " + r.stdout());
    }

    static Path write(String name, String text) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }
}
