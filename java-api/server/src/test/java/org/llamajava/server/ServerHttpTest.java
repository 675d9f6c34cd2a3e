package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.get;
import static org.llamajava.server.ServerFixture.post;
import static org.llamajava.server.ServerFixture.q;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Model;
import org.llamajava.Sequence;
import org.llamajava.server.ServerFixture.Reply;

/**
 * The server over plain HTTP (the JDK's client): the API key, bad requests answered with 4xx in
 * OpenAI's error shape while the server keeps serving, the body limit, greedy output equal to a
 * {@link Sequence}'s, prefix reuse in {@code usage}, logprobs, stop strings, the info endpoints,
 * metrics, and no CORS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerHttpTest {
    private static final String KEY = "test-key-0123456789";
    private static final String[] AUTH = {"Authorization", "Bearer " + KEY};

    @TempDir
    Path tmp;
    private Model model;
    private LlamaServer server;
    private String url;

    @BeforeAll
    void start() {
        model = Model.load(ServerFixture.generationModel(tmp));
        server = LlamaServer.start(model, ServerFixture.config(KEY).maxBodyBytes(64 * 1024).maxN(4).modelName("stories")
                .build());
        url = server.baseUrl();
    }

    @AfterAll
    void stop() {
        server.close();
        model.close();
    }

    private Reply chat(String body) {
        return post(url + "/v1/chat/completions", body, AUTH);
    }

    private static void assertError(Reply r, int status, String param) {
        assertEquals(status, r.status(), r.raw().body());
        JsonNode e = r.error();
        assertNotNull(e, "an OpenAI-style error body: " + r.raw().body());
        assertTrue(e.get("message").asText().length() > 10, r.raw().body());
        assertTrue(e.has("type") && e.has("param") && e.has("code"), r.raw().body());
        if (param != null) {
            assertEquals(param, e.get("param").asText(), r.raw().body());
        }
        assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
    }

    private void assertAlive() {
        Reply r = chat("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2}");
        assertEquals(200, r.status(), r.raw().body());
    }

    @Test
    void theApiKeyIsNeededEverywhereButHealth() {
        assertEquals("ok", get(url + "/health").json().get("status").asText());
        for (String path : List.of("/v1/models", "/metrics")) {
            Reply r = get(url + path);
            assertError(r, 401, null);
            assertEquals("authentication_error", r.error().get("type").asText());
            assertEquals("Bearer", r.header("WWW-Authenticate"));
        }
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2}";
        assertError(post(url + "/v1/chat/completions", body), 401, null);
        assertError(post(url + "/v1/chat/completions", body, "Authorization", "Bearer " + KEY + "x"), 401, null);
        assertError(post(url + "/v1/chat/completions", body, "Authorization", "Bearer"), 401, null);
        assertError(post(url + "/tokenize", "{\"content\":\"a\"}", "Authorization", KEY), 401, null);
        assertEquals(200, chat(body).status());
        // Anthropic's header, as llama-server takes it
        assertEquals(200, post(url + "/v1/chat/completions", body, "X-Api-Key", KEY).status());
        assertError(post(url + "/v1/chat/completions", body, "X-Api-Key", KEY + "x"), 401, null);
    }

    @Test
    void badRequestsGet4xxAndTheServerKeepsServing() {
        assertError(chat("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}"), 400, null);
        assertError(chat("not json at all"), 400, null);
        assertError(chat(""), 400, null);
        assertError(chat("[1, 2]"), 400, null);
        assertError(chat("{\"messages\":[]} trailing"), 400, null);
        assertError(chat("{}"), 400, "messages");
        assertError(chat("{\"messages\": \"Hi\"}"), 400, "messages");
        assertError(chat("{\"messages\":[{\"role\":\"wizard\",\"content\":\"Hi\"}]}"), 400, "messages[0].role");
        assertError(chat("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}"),
                400, "messages[0].content");
        String m = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
        assertError(chat("{" + m + ",\"max_tokens\":-2}"), 400, "max_tokens");
        assertError(chat("{" + m + ",\"max_tokens\":\"ten\"}"), 400, "max_tokens");
        assertError(chat("{" + m + ",\"max_tokens\":1.5}"), 400, "max_tokens");
        // as llama-server: a max_tokens above the server's cap (here a slot's size) is capped, -1 means the cap
        for (String max : new String[] {"100000000", "-1"}) {
            Reply capped = chat("{" + m + ",\"max_tokens\":" + max + ",\"temperature\":0,\"ignore_eos\":true}");
            assertEquals(200, capped.status(), capped.raw().body());
            int generated = capped.json().get("usage").get("completion_tokens").asInt();
            int prompt = capped.json().get("usage").get("prompt_tokens").asInt();
            // the slot holds the prompt and every generated token but the last, which is never evaluated
            assertTrue(generated > 0 && prompt + generated - 1 <= 512, "capped at a slot: " + prompt + " + " + generated);
        }
        assertError(chat("{" + m + ",\"temperature\":-1}"), 400, "temperature");
        assertError(chat("{" + m + ",\"temperature\":\"hot\"}"), 400, "temperature");
        assertError(chat("{" + m + ",\"top_p\":2}"), 400, "top_p");
        assertError(chat("{" + m + ",\"n\":5}"), 400, "n");
        assertError(chat("{" + m + ",\"n\":0}"), 400, "n");
        assertError(chat("{" + m + ",\"stream\":\"yes\"}"), 400, "stream");
        assertError(chat("{" + m + ",\"stop\":[1]}"), 400, "stop");
        assertError(chat("{" + m + ",\"stop\":[\"\"]}"), 400, "stop");
        assertError(chat("{" + m + ",\"top_logprobs\":3}"), 400, "top_logprobs");
        assertError(chat("{" + m + ",\"logit_bias\":{\"999999\":1}}"), 400, "logit_bias");
        assertError(chat("{" + m + ",\"seed\":\"x\"}"), 400, "seed");
        assertError(chat("{" + m + ",\"tools\":[{\"type\":\"function\",\"function\":{\"description\":\"f\"}}]}"), 400,
                "tools");
        assertError(chat("{" + m + ",\"response_format\":{\"type\":\"xml\"}}"), 400, "response_format");
        assertError(chat("{" + m + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":3}}}"),
                400, "response_format");
        assertError(chat("{" + m + ",\"tool_choice\":\"required\"}"), 400, "tool_choice");
        assertError(chat("{" + m + ",\"tools\":\"f\"}"), 400, "tools");
        assertError(post(url + "/v1/completions", "{\"prompt\": 42}", AUTH), 400, "prompt");
        assertError(post(url + "/v1/completions", "{\"prompt\": [1, 99999999]}", AUTH), 400, "prompt");
        assertError(post(url + "/v1/completions", "{\"prompt\": [\"a\", \"b\"]}", AUTH), 400, "prompt");
        assertError(post(url + "/detokenize", "{\"tokens\": [-1]}", AUTH), 400, "tokens");
        assertError(post(url + "/v1/embeddings", "{\"input\": \"a\"}", AUTH), 501, null);
        assertError(get(url + "/v1/nothing", AUTH), 404, null);
        assertError(get(url + "/v1/chat/completions", AUTH), 404, null);
        assertAlive();
    }

    @Test
    void aPromptLongerThanASlotIs400() {
        String longText = "Once upon a time there was a little girl. ".repeat(200);
        Reply r = post(url + "/v1/completions", "{\"prompt\": " + q(longText) + ", \"max_tokens\": 1}", AUTH);
        assertError(r, 400, null);
        assertEquals("context_length_exceeded", r.error().get("code").asText());
        assertTrue(r.error().get("message").asText().contains("-c"), r.error().toString());
        assertAlive();
    }

    @Test
    void bodiesOverTheLimitGet413() {
        String big = "{\"prompt\": " + q("a".repeat(100 * 1024)) + "}";
        assertError(post(url + "/v1/completions", big, AUTH), 413, null);
        // no Content-Length: the body is counted as it is read
        HttpRequest.Builder chunked = HttpRequest.newBuilder(URI.create(url + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes())));
        assertError(ServerFixture.send(chunked, AUTH), 413, null);
        assertAlive();
    }

    @Test
    void greedyCompletionsEqualASequencesAndNameTheServedModel() {
        String prompt = "Once upon a time";
        Reply r = post(url + "/v1/completions", "{\"model\": \"gpt-4o\", \"prompt\": " + q(prompt)
                + ", \"max_tokens\": 24, \"temperature\": 0}", AUTH);
        assertEquals(200, r.status(), r.raw().body());
        int[] tokens = model.vocabulary().tokenize(prompt, true, true);
        Completion alone = ServerFixture.greedy(model, tokens, 24);
        JsonNode choice = r.json().get("choices").get(0);
        assertEquals(alone.text(), choice.get("text").asText());
        assertEquals("stories", r.json().get("model").asText(), "served by the loaded model, whatever the request names");
        assertEquals("text_completion", r.json().get("object").asText());
        JsonNode usage = r.json().get("usage");
        assertEquals(tokens.length, usage.get("prompt_tokens").asInt());
        assertEquals(alone.tokenCount(), usage.get("completion_tokens").asInt());
        assertEquals(alone.finishReason() == org.llamajava.FinishReason.MAX_TOKENS ? "length" : "stop",
                choice.get("finish_reason").asText());
        Reply ids = post(url + "/v1/completions", "{\"prompt\": " + JSONArray(tokens)
                + ", \"max_tokens\": 24, \"temperature\": 0}", AUTH);
        assertEquals(alone.text(), ids.json().get("choices").get(0).get("text").asText(), "a prompt of token ids");
    }

    @Test
    void concurrentRequestsGiveWhatEachGivesAlone() throws Exception {
        String[] prompts = {"Once upon a time", "The little dog", "Lily wanted to play", "One day, a boy named Tom",
            "The sun was", "She went to the park and", "There was a big tree", "Mom said"};
        List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> replies = new java.util.ArrayList<>();
        for (String p : prompts) {
            replies.add(ServerFixture.HTTP.sendAsync(HttpRequest.newBuilder(URI.create(url + "/v1/completions"))
                    .header("Authorization", "Bearer " + KEY).POST(HttpRequest.BodyPublishers.ofString(
                            "{\"prompt\": " + q(p) + ", \"max_tokens\": 24, \"temperature\": 0}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < prompts.length; i++) {
            java.net.http.HttpResponse<String> r = replies.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(ServerFixture.greedy(model, prompts[i], 24).text(),
                    ServerFixture.JSON.readTree(r.body()).get("choices").get(0).get("text").asText(), prompts[i]);
        }
    }

    private static String JSONArray(int[] a) {
        return java.util.Arrays.toString(a);
    }

    @Test
    void aSharedPrefixIsReusedAndUsageSaysSo() {
        String system = "You are a storyteller. You tell short stories about a little girl named Lily and her dog, who"
                + " live in a small house near the big forest and play in the park every day.";
        String first = "{\"messages\":[{\"role\":\"system\",\"content\":" + q(system)
                + "},{\"role\":\"user\",\"content\":\"Tell me a story.\"}],\"max_tokens\":4,\"temperature\":0}";
        String second = "{\"messages\":[{\"role\":\"system\",\"content\":" + q(system)
                + "},{\"role\":\"user\",\"content\":\"Tell me another one.\"}],\"max_tokens\":4,\"temperature\":0}";
        Reply a = chat(first);
        Reply b = chat(second);
        assertEquals(200, b.status(), b.raw().body());
        int systemTokens = model.vocabulary().tokenize("<|im_start|>system\n" + system, true, true).length;
        JsonNode usage = b.json().get("usage");
        int cached = usage.get("prompt_tokens_details").get("cached_tokens").asInt();
        assertTrue(cached >= systemTokens - 1, "the system prompt came from a slot's cache: " + usage);
        JsonNode t = b.json().get("timings");
        assertEquals(usage.get("prompt_tokens").asInt(), t.get("prompt_n").asInt() + t.get("cache_n").asInt(), t.toString());
        assertTrue(t.get("prompt_n").asInt() < usage.get("prompt_tokens").asInt() - systemTokens + 2,
                "only the new tokens were evaluated: " + t);
        assertEquals(200, a.status());
    }

    @Test
    void logprobsStopStringsSeedsAndChoices() {
        Reply r = chat("{\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}],\"max_tokens\":8,"
                + "\"temperature\":0,\"logprobs\":true,\"top_logprobs\":3}");
        assertEquals(200, r.status(), r.raw().body());
        JsonNode content = r.json().get("choices").get(0).get("logprobs").get("content");
        assertTrue(content.size() >= 1 && content.size() <= 8, content.toString());
        StringBuilder text = new StringBuilder();
        for (JsonNode e : content) {
            JsonNode top = e.get("top_logprobs");
            assertEquals(3, top.size());
            assertEquals(e.get("id").asInt(), top.get(0).get("id").asInt(), "greedy picks the most likely token");
            assertTrue(e.get("logprob").asDouble() <= 0);
            assertTrue(top.get(0).get("logprob").asDouble() >= top.get(1).get("logprob").asDouble());
            text.append(e.get("token").asText());
        }
        assertEquals(text.toString(), r.json().get("choices").get(0).get("message").get("content").asText());

        Reply full = post(url + "/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":16,"
                + "\"temperature\":0}", AUTH);
        String whole = full.json().get("choices").get(0).get("text").asText();
        String stop = whole.substring(whole.length() / 2, whole.length() / 2 + 2);
        Reply stopped = post(url + "/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":16,"
                + "\"temperature\":0,\"stop\":" + q(stop) + "}", AUTH);
        JsonNode c = stopped.json().get("choices").get(0);
        assertEquals(whole.substring(0, whole.indexOf(stop)), c.get("text").asText());
        assertEquals("stop", c.get("finish_reason").asText());

        String seeded = "{\"prompt\":\"The little dog\",\"max_tokens\":12,\"temperature\":1.0,\"seed\":1234,\"n\":3}";
        Reply s1 = post(url + "/v1/completions", seeded, AUTH);
        Reply s2 = post(url + "/v1/completions", seeded, AUTH);
        assertEquals(3, s1.json().get("choices").size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, s1.json().get("choices").get(i).get("index").asInt());
            assertEquals(s1.json().get("choices").get(i).get("text"), s2.json().get("choices").get(i).get("text"),
                    "the same seed gives the same text");
        }
    }

    @Test
    void ignoreEosGeneratesMaxTokens() {
        Reply r = post(url + "/v1/completions", "{\"prompt\":\"The end.\",\"max_tokens\":200,\"temperature\":0,"
                + "\"ignore_eos\":true}", AUTH);
        assertEquals(200, r.json().get("usage").get("completion_tokens").asInt(), r.raw().body());
        assertEquals("length", r.json().get("choices").get(0).get("finish_reason").asText());
    }

    /** llama-server's GET /props: the fields llama.cpp's server test suite reads (test_basic.py). */
    @Test
    void propsLikeLlamaServers() {
        Reply r = get(url + "/props", AUTH);
        assertEquals(200, r.status(), r.raw().body());
        JsonNode p = r.json();
        assertTrue(p.get("model_path").asText().endsWith(".gguf"), p.toString());
        assertEquals(2, p.get("total_slots").asInt());
        assertEquals(512, p.get("default_generation_settings").get("n_ctx").asInt(), "a slot's share of 1024");
        assertEquals(-1, p.get("default_generation_settings").get("params").get("seed").asLong(), "random by default");
        assertEquals(401, get(url + "/props").status(), "behind the key");
    }

    @Test
    void modelsTokenizeDetokenizeAndMetrics() {
        JsonNode models = get(url + "/v1/models", AUTH).json();
        assertEquals("stories", models.get("data").get(0).get("id").asText());
        assertEquals(2, models.get("data").get(0).get("meta").get("slots").asInt());

        Reply t = post(url + "/tokenize", "{\"content\": \"Once upon a time\", \"add_special\": true}", AUTH);
        int[] ids = ServerFixture.JSON.convertValue(t.json().get("tokens"), int[].class);
        assertArrayEquals(model.vocabulary().tokenize("Once upon a time", true, true), ids);
        Reply d = post(url + "/detokenize", "{\"tokens\": " + JSONArray(ids) + "}", AUTH);
        assertEquals(model.vocabulary().detokenize(ids, false, true), d.json().get("content").asText());
        Reply p = post(url + "/tokenize", "{\"content\": \"Once\", \"with_pieces\": true}", AUTH);
        assertTrue(p.json().get("tokens").get(0).has("piece"), p.raw().body());

        assertAlive();
        Reply m = get(url + "/metrics", AUTH);
        assertEquals(200, m.status());
        assertTrue(m.header("Content-Type").startsWith("text/plain"), m.header("Content-Type"));
        String text = m.raw().body();
        for (String name : List.of("llamajava_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                "llamajava_slots 2", "llamajava_slots_busy", "llamajava_queue_depth", "llamajava_tokens_generated_total",
                "llamajava_prompt_tokens_total", "llamajava_time_to_first_token_seconds_bucket",
                "llamajava_request_duration_seconds_bucket", "llamajava_prompt_cache_entries",
                "llamajava_prompt_cache_bytes", "llamajava_prompt_cache_restores_total")) {
            assertTrue(text.contains(name), name + " in\n" + text);
        }
    }

    @Test
    void noCorsHeadersUnlessConfigured() {
        Reply r = get(url + "/v1/models", "Authorization", "Bearer " + KEY, "Origin", "http://evil.example");
        assertEquals(200, r.status());
        assertNull(r.header("Access-Control-Allow-Origin"));
        Reply pre = ServerFixture.send(HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()), "Origin", "http://evil.example",
                "Access-Control-Request-Method", "POST");
        assertNull(pre.header("Access-Control-Allow-Origin"));
        assertFalse(pre.status() >= 200 && pre.status() < 300 && pre.header("Access-Control-Allow-Methods") != null);
    }
}
