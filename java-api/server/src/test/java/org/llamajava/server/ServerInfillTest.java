package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.post;
import static org.llamajava.server.ServerFixture.q;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Infill;
import org.llamajava.InfillChunk;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.server.ServerFixture.Reply;

/**
 * {@code POST /infill} (llama-server's request): the server evaluates exactly the prompt
 * {@link Infill#tokens} formats for a slot's size and the server's batch size (its length is
 * {@code usage.prompt_tokens}, and greedy text from those tokens through a {@code Sequence} is the
 * reply), blocking and streamed; bad requests, a model without FIM tokens and a missing key get
 * OpenAI-style errors while the server keeps serving. The model: a random-weight tiny model whose
 * vocabulary has FIM and repository-level tokens (as the core's infill tests write it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerInfillTest {
    private static final String KEY = "infill-key-0123456789";
    private static final String[] AUTH = {"Authorization", "Bearer " + KEY};
    /** A slot of 1024 tokens, batches of 256: the prefix keeps its last 192 tokens, the suffix at most 64 less the prompt. */
    private static final int SLOT = 1024;
    private static final int BATCH = 256;

    @TempDir
    static Path tmp;
    private Model model;
    private Model plain;
    private LlamaServer server;
    private LlamaServer noFim;

    @BeforeAll
    void start() {
        model = Model.load(fimModel(tmp.resolve("fim-tiny.gguf")));
        server = LlamaServer.start(model, ServerFixture.config(KEY).contextSize(2 * SLOT).batchSize(BATCH).build());
        plain = Model.load(TestSupport.writeTinyModel(tmp));
        noFim = LlamaServer.start(plain, ServerFixture.config(null).build());
    }

    @AfterAll
    void stop() {
        server.close();
        noFim.close();
        model.close();
        plain.close();
    }

    /** The tiny shape with the byte-fallback vocabulary plus FIM tokens (control tokens; EOS the last). */
    static Path fimModel(Path p) {
        return TestSupport.writeFimModel(p);
    }

    static final String PREFIX = "Once upon a time there was a little girl. ";
    static final String SUFFIX = " and the dog played in the day.";
    static final List<InfillChunk> EXTRA = List.of(new InfillChunk("lily.txt", "Lily and Tom went to play."),
            new InfillChunk("tmp", "the cat was a little cat"));

    /** The request's JSON. */
    static String body(String prefix, String suffix, List<InfillChunk> extra, String prompt, String more) {
        StringBuilder b = new StringBuilder("{\"input_prefix\":" + q(prefix) + ",\"input_suffix\":" + q(suffix));
        if (extra != null) {
            b.append(",\"input_extra\":[");
            for (int i = 0; i < extra.size(); i++) {
                b.append(i == 0 ? "" : ",").append("{\"filename\":").append(q(extra.get(i).filename())).append(",\"text\":")
                        .append(q(extra.get(i).text())).append('}');
            }
            b.append(']');
        }
        if (prompt != null) {
            b.append(",\"prompt\":").append(q(prompt));
        }
        return b.append(more).append('}').toString();
    }

    /** What the server must evaluate: {@link Infill#tokens} for a slot and the server's batch. */
    int[] expectedPrompt(String prefix, String suffix, List<InfillChunk> extra, String prompt) {
        return Infill.builder().prefix(prefix).suffix(suffix).extra(extra).prompt(prompt).build()
                .tokens(model.vocabulary(), SLOT, BATCH);
    }

    private Reply infill(String body) {
        return post(server.baseUrl() + "/infill", body, AUTH);
    }

    @Test
    void theServerEvaluatesTheInfillPromptAndGeneratesFromIt() {
        // a long prefix: only its last 3/4 batch stays, as llama-server cuts it
        String prefix = PREFIX.repeat(30);
        int[] prompt = expectedPrompt(prefix, SUFFIX, EXTRA, "The");
        assertTrue(model.vocabulary().tokenize(prefix, false, false).length > 3 * BATCH / 4, "the prefix is cut");
        Completion expected = ServerFixture.greedy(model, prompt, 16);
        assertTrue(expected.tokenCount() > 0);

        Reply r = infill(body(prefix, SUFFIX, EXTRA, "The", ",\"max_tokens\":16,\"temperature\":0"));
        assertEquals(200, r.status(), r.raw().body());
        assertEquals("text_completion", r.json().get("object").asText());
        assertEquals(prompt.length, r.json().get("usage").get("prompt_tokens").asInt(), r.raw().body());
        assertEquals(expected.tokenCount(), r.json().get("usage").get("completion_tokens").asInt());
        JsonNode choice = r.json().get("choices").get(0);
        assertEquals(expected.text(), choice.get("text").asText());
        assertEquals(OpenAiFormat.finishReason(expected.finishReason()), choice.get("finish_reason").asText());

        // llama-server's field names: n_predict, and no extra context or prompt at all
        int[] bare = expectedPrompt(PREFIX, SUFFIX, List.of(), "");
        Reply r2 = infill(body(PREFIX, SUFFIX, null, null, ",\"n_predict\":8,\"temperature\":0"));
        assertEquals(200, r2.status(), r2.raw().body());
        assertEquals(bare.length, r2.json().get("usage").get("prompt_tokens").asInt());
        assertEquals(ServerFixture.greedy(model, bare, 8).text(), r2.json().get("choices").get(0).get("text").asText());
    }

    @Test
    void streamedInfillSendsTheSameText() throws Exception {
        int[] prompt = expectedPrompt(PREFIX, SUFFIX, EXTRA, "");
        String expected = ServerFixture.greedy(model, prompt, 16).text();
        Reply r = infill(body(PREFIX, SUFFIX, EXTRA, "", ",\"max_tokens\":16,\"temperature\":0,\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true}"));
        assertEquals(200, r.status(), r.raw().body());
        assertTrue(r.header("Content-Type").startsWith("text/event-stream"), r.header("Content-Type"));
        StringBuilder text = new StringBuilder();
        JsonNode usage = null;
        boolean done = false;
        for (String line : r.raw().body().split("\n")) {
            if (!line.startsWith("data: ")) {
                continue;
            }
            String data = line.substring(6).strip();
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonNode chunk = ServerFixture.JSON.readTree(data);
            if (chunk.hasNonNull("usage")) {
                usage = chunk.get("usage");
            }
            for (JsonNode c : chunk.get("choices")) {
                text.append(c.get("text").asText());
            }
        }
        assertTrue(done, r.raw().body());
        assertEquals(expected, text.toString());
        assertNotNull(usage, r.raw().body());
        assertEquals(prompt.length, usage.get("prompt_tokens").asInt());
    }

    @Test
    void badRequestsGet400AndTheServerKeepsServing() {
        String ok = body(PREFIX, SUFFIX, null, null, ",\"max_tokens\":2");
        assertError(infill("{\"input_suffix\":\"x\"}"), 400, "input_prefix");
        assertError(infill("{\"input_prefix\":\"x\"}"), 400, "input_suffix");
        assertError(infill("{\"input_prefix\":1,\"input_suffix\":\"x\"}"), 400, "input_prefix");
        assertError(infill("{\"input_prefix\":\"x\",\"input_suffix\":\"y\",\"prompt\":[1,2]}"), 400, "prompt");
        assertError(infill("{\"input_prefix\":\"x\",\"input_suffix\":\"y\",\"input_extra\":\"z\"}"), 400, "input_extra");
        assertError(infill("{\"input_prefix\":\"x\",\"input_suffix\":\"y\",\"input_extra\":[{\"filename\":\"a\"}]}"), 400,
                "input_extra");
        assertError(infill("{\"input_prefix\":\"x\",\"input_suffix\":\"y\",\"input_extra\":[{\"text\":\"a\",\"filename\":3}]}"),
                400, "input_extra");
        assertError(infill("{\"input_prefix\":\"x\",\"input_suffix\":\"y\",\"input_extra\":[7]}"), 400, "input_extra");
        assertError(infill(body(PREFIX, SUFFIX, null, null, ",\"max_tokens\":-5")), 400, "max_tokens");
        // llama-server's per-request "lora" is read here too; this server has no adapters
        assertError(infill(body(PREFIX, SUFFIX, null, null, ",\"lora\":[{\"id\":0,\"scale\":1}]")), 400, "lora");
        assertError(infill("not json"), 400, null);
        // the parts are cut to their budgets, but together they can still pass a slot: refused, not cut further
        String longPrefix = PREFIX.repeat(30);
        String longSuffix = SUFFIX.repeat(30);
        List<InfillChunk> big = List.of(new InfillChunk("big.txt", "the dog and the cat played in the park. ".repeat(200)));
        int n = expectedPrompt(longPrefix, longSuffix, big, "").length;
        assertTrue(n > SLOT - 1, "the formatted prompt passes a slot: " + n);
        Reply tooLong = infill(body(longPrefix, longSuffix, big, null, ",\"max_tokens\":2"));
        assertError(tooLong, 400, null);
        assertEquals("context_length_exceeded", tooLong.error().get("code").asText(), tooLong.raw().body());
        assertEquals(200, infill(ok).status());
    }

    @Test
    void theApiKeyIsNeeded() {
        String ok = body(PREFIX, SUFFIX, null, null, ",\"max_tokens\":2");
        Reply r = post(server.baseUrl() + "/infill", ok);
        assertError(r, 401, null);
        assertEquals("authentication_error", r.error().get("type").asText());
        assertError(post(server.baseUrl() + "/infill", ok, "Authorization", "Bearer wrong"), 401, null);
        assertEquals(200, infill(ok).status());
    }

    @Test
    void aModelWithoutFimTokensIsNotSupportedAndTheServerKeepsServing() {
        Reply r = post(noFim.baseUrl() + "/infill", body(PREFIX, SUFFIX, null, null, ",\"max_tokens\":2"));
        // llama-server answers this with its "not supported" error, 501
        assertError(r, 501, null);
        assertEquals("not_supported_error", r.error().get("type").asText());
        assertTrue(r.error().get("message").asText().contains("prefix token is missing"), r.raw().body());
        Reply c = post(noFim.baseUrl() + "/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":4,\"temperature\":0}");
        assertEquals(200, c.status(), c.raw().body());
        assertEquals(ServerFixture.greedy(plain, "Once upon a time", 4).text(), c.json().get("choices").get(0).get("text")
                .asText());
    }

    private static void assertError(Reply r, int status, String param) {
        assertEquals(status, r.status(), r.raw().body());
        JsonNode e = r.error();
        assertNotNull(e, "an OpenAI-style error body: " + r.raw().body());
        assertTrue(e.has("message") && e.has("type") && e.has("param") && e.has("code"), r.raw().body());
        if (param != null) {
            assertEquals(param, e.get("param").asText(), r.raw().body());
        }
    }

    @Test
    void suffixOnCompletionsPointsToInfill() {
        Reply r = post(server.baseUrl() + "/v1/completions", "{\"prompt\":\"a\",\"suffix\":\"b\"}", AUTH);
        assertError(r, 400, null);
        assertTrue(r.error().get("message").asText().contains("/infill"), r.raw().body());
    }
}
