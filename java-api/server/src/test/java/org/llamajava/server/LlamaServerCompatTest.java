package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.get;
import static org.llamajava.server.ServerFixture.post;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Model;
import org.llamajava.server.ServerFixture.Reply;

/**
 * llama-server's own fields and endpoints, each checked against llama-java's Java API (the
 * oracle): {@code /slots} and its save, restore and erase under a save folder (with file names
 * that cannot escape it), {@code id_slot}, the native {@code /completion}'s several prompts,
 * {@code n_probs}, {@code response_fields} and {@code grammar}, {@code exceed_context_size_error},
 * {@code __verbose}, the endpoints that are off unless asked for, and model aliases.
 */
class LlamaServerCompatTest {
    @TempDir
    Path tmp;

    private static ServerConfig.Builder config() {
        return ServerConfig.builder().port(0).slots(2).contextSize(1024).threads(1)
                .chatTemplate(org.llamajava.chat.ChatTemplate.builtin("chatml"));
    }

    /**
     * llama-server's {@code --context-shift} (its test_ctx_shift): with it a reply goes past its
     * slot, shifting, and says {@code truncated}; without it the reply ends when prompt and reply
     * fill the slot ({@code truncated}, stop type {@code limit}), and one that fits is not truncated.
     */
    @Test
    void contextShift() throws Exception {
        String prompt = "{\"prompt\": \"Once upon a time\", \"temperature\": 0, \"ignore_eos\": true, \"n_predict\": ";
        try (Model model = Model.load(ServerFixture.generationModel(tmp))) {
            try (LlamaServer s = LlamaServer.start(model, config().contextSize(512).contextShift(true).build())) {
                Reply r = post(s.baseUrl() + "/completion", prompt + "600}");
                assertEquals(200, r.status(), r.raw().body());
                assertEquals(600, r.json().get("timings").get("predicted_n").asInt(), "past the slot of 256");
                assertTrue(r.json().get("truncated").asBoolean());
                assertEquals("limit", r.json().get("stop_type").asText());
                Reply small = post(s.baseUrl() + "/completion", prompt + "8}");
                assertFalse(small.json().get("truncated").asBoolean(), small.raw().body());
            }
            try (LlamaServer s = LlamaServer.start(model, config().contextSize(512).build())) {
                Reply r = post(s.baseUrl() + "/completion", prompt + "-1}");
                assertEquals(200, r.status(), r.raw().body());
                int promptTokens = r.json().get("timings").get("prompt_n").asInt();
                assertEquals(256 - promptTokens, r.json().get("timings").get("predicted_n").asInt(),
                        "prompt and reply fill the slot, as llama-server's (8 + 248 = 256)");
                assertTrue(r.json().get("truncated").asBoolean());
                Reply capped = post(s.baseUrl() + "/completion", prompt + "600}");
                assertEquals(256 - promptTokens, capped.json().get("timings").get("predicted_n").asInt());
                Reply small = post(s.baseUrl() + "/completion", prompt + "8}");
                assertFalse(small.json().get("truncated").asBoolean(), small.raw().body());
            }
        }
    }

    /**
     * llama-server's {@code --kv-unified} (its test_completion_unified): a slot holds the whole
     * context, so a reply longer than the context's share of one slot is served whole.
     */
    @Test
    void unifiedKv() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, config().slots(4).contextSize(256).kvUnified(true).build())) {
            assertEquals(256, get(s.baseUrl() + "/props").json().get("default_generation_settings").get("n_ctx").asInt());
            Reply r = post(s.baseUrl() + "/completion", "{\"prompt\": \"A\", \"n_predict\": 150, \"ignore_eos\": true}");
            assertEquals(200, r.status(), r.raw().body());
            assertEquals(150, r.json().get("timings").get("predicted_n").asInt(), "more than a quarter of 256");
        }
    }

    /**
     * llama-server's {@code --cache-idle-slots} (its test_kv_keep_only_active): a request starting
     * in slot 1 saves idle slot 0's cache into the prompt cache and clears the slot, so that slot
     * 0's prompt, sent again to slot 1, is restored from the cache ({@code cache_n}, fewer prompt
     * tokens evaluated); with {@code cacheIdleSlots(false)} nothing is saved, and slot 1 evaluates
     * the whole prompt.
     */
    @Test
    void idleSlotsAreSavedToThePromptCache() throws Exception {
        String longPrompt = "Once upon a time in a land far away, there lived a brave knight who traveled across"
                + " mountains and rivers to find the legendary golden sword hidden deep within the forest";
        String a = "{\"prompt\": \"" + longPrompt + "\", \"n_predict\": 4, \"temperature\": 0, \"id_slot\": ";
        String b = "{\"prompt\": \"The quick brown fox\", \"n_predict\": 4, \"temperature\": 0, \"id_slot\": 1}";
        try (Model model = Model.load(ServerFixture.generationModel(tmp))) {
            for (boolean on : new boolean[] {true, false}) {
                try (LlamaServer s = LlamaServer.start(model, config().kvUnified(true).cacheIdleSlots(on).build())) {
                    Reply first = post(s.baseUrl() + "/completion", a + "0}");
                    assertEquals(200, first.status(), first.raw().body());
                    int promptN = first.json().get("timings").get("prompt_n").asInt();
                    assertEquals(200, post(s.baseUrl() + "/completion", b).status());
                    Reply again = post(s.baseUrl() + "/completion", a + "1}");
                    assertEquals(200, again.status(), again.raw().body());
                    JsonNode t = again.json().get("timings");
                    if (on) {
                        assertEquals(promptN - 1, t.get("cache_n").asInt(), "all but the last token restored: " + t);
                        assertEquals(1, t.get("prompt_n").asInt(), t.toString());
                        assertEquals(first.json().get("content").asText(), again.json().get("content").asText());
                    } else {
                        assertTrue(t.get("cache_n").asInt() <= 1, "nothing saved: " + t);
                        assertTrue(t.get("prompt_n").asInt() >= promptN - 1, t.toString());
                    }
                }
            }
        }
    }

    /**
     * llama-server's reading of JSON output requests: an empty schema ({@code {}}) means any object,
     * on {@code /completion}'s {@code json_schema} and in a chat's {@code response_format}; and with
     * {@code --no-jinja} (its test_completion_with_response_format, which the suite runs without
     * Jinja) {@code json_object} constrains a chat reply from its first token with the schema's own
     * grammar: the reply is the one that grammar, given as {@code grammar}, gives (the oracle).
     */
    @Test
    void jsonObjectAndEmptySchemas() throws Exception {
        String chat = "{\"messages\": [{\"role\": \"system\", \"content\": \"You are a coding assistant.\"},"
                + " {\"role\": \"user\", \"content\": \"Write an example\"}], \"max_tokens\": 10, \"temperature\": 0, ";
        String objectGbnf = org.llamajava.grammar.JsonSchema.of("{\"type\": \"object\"}").toGbnf();
        String byGrammar = ServerFixture.JSON.writeValueAsString(objectGbnf);
        try (Model model = Model.load(ServerFixture.generationModel(tmp))) {
            try (LlamaServer s = LlamaServer.start(model, config().jinja(false).build())) {
                String json = content(post(s.baseUrl() + "/chat/completions", chat
                        + "\"response_format\": {\"type\": \"json_object\"}}"));
                assertTrue(json.startsWith("{"), "the object's grammar from the first token: '" + json + "'");
                assertEquals(content(post(s.baseUrl() + "/chat/completions", chat + "\"grammar\": " + byGrammar + "}")),
                        json);
                assertEquals(json, content(post(s.baseUrl() + "/chat/completions", chat
                        + "\"response_format\": {\"type\": \"json_object\", \"schema\": {}}}")));
            }
            try (LlamaServer s = LlamaServer.start(model, config().build())) {
                assertEquals(content(post(s.baseUrl() + "/chat/completions", chat
                                + "\"response_format\": {\"type\": \"json_object\", \"schema\": {\"type\": \"object\"}}}")),
                        content(post(s.baseUrl() + "/chat/completions", chat
                                + "\"response_format\": {\"type\": \"json_object\", \"schema\": {}}}")),
                        "{} is any object, as llama-server reads it");
                String completion = "{\"prompt\": \"Write an example\", \"n_predict\": 10, \"temperature\": 0, ";
                Reply empty = post(s.baseUrl() + "/completion", completion + "\"json_schema\": {}}");
                assertEquals(200, empty.status(), empty.raw().body());
                String any = empty.json().get("content").asText();
                assertTrue(any.startsWith("{"), any);
                assertEquals(post(s.baseUrl() + "/completion", completion + "\"grammar\": " + byGrammar + "}").json()
                        .get("content").asText(), any);
            }
        }
    }

    private static String content(Reply r) {
        assertEquals(200, r.status(), r.raw().body());
        return r.json().get("choices").get(0).get("message").get("content").asText();
    }

    @Test
    void slotsSaveRestoreAndErase() throws Exception {
        Path saves = Files.createDirectories(tmp.resolve("slots"));
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, config().slotSavePath(saves).promptCacheBytes(0).build())) {
            String url = s.baseUrl();
            Reply slots = get(url + "/slots");
            assertEquals(200, slots.status());
            assertEquals(2, slots.json().size());
            assertEquals(512, slots.json().get(0).get("n_ctx").asInt());

            String body = "{\"prompt\": \"Once upon a time\", \"n_predict\": 8, \"temperature\": 0, \"id_slot\": 1}";
            Reply first = post(url + "/completion", body);
            assertEquals(200, first.status(), first.raw().body());
            int promptTokens = first.json().get("tokens_evaluated").asInt();

            Reply save = post(url + "/slots/1?action=save", "{\"filename\": \"one.bin\"}");
            assertEquals(200, save.status(), save.raw().body());
            assertEquals(promptTokens + 8 - 1, save.json().get("n_saved").asInt());
            assertEquals(Files.size(saves.resolve("one.bin")), save.json().get("n_written").asLong());

            Reply restore = post(url + "/slots/0?action=restore", "{\"filename\": \"one.bin\"}");
            assertEquals(200, restore.status(), restore.raw().body());
            assertEquals(save.json().get("n_saved").asInt(), restore.json().get("n_restored").asInt());

            // slot 0 now holds slot 1's cache: the same request there evaluates one token and says the same
            Reply again = post(url + "/completion", body.replace("\"id_slot\": 1", "\"id_slot\": 0"));
            assertEquals(1, again.json().get("timings").get("prompt_n").asInt(), again.raw().body());
            assertEquals(first.json().get("content").asText(), again.json().get("content").asText());

            Reply erase = post(url + "/slots/0?action=erase", "{}");
            assertEquals(200, erase.status(), erase.raw().body());
            Reply fresh = post(url + "/completion", body.replace("\"id_slot\": 1", "\"id_slot\": 0"));
            // (no prompt cache here: with one, the copy of slot 1 kept in host memory would be reused)
            assertEquals(promptTokens, fresh.json().get("timings").get("prompt_n").asInt(), "an erased slot reuses nothing");

            for (String name : List.of("../escape.bin", "/etc/passwd", "a/b.bin", "..", ".hidden")) {
                Reply bad = post(url + "/slots/1?action=save", "{\"filename\": " + ServerFixture.q(name) + "}");
                assertEquals(400, bad.status(), name + ": " + bad.raw().body());
            }
            assertFalse(Files.exists(tmp.resolve("escape.bin")));
            assertEquals(400, post(url + "/slots/0?action=restore", "{\"filename\": \"missing.bin\"}").status());
            assertEquals(400, post(url + "/slots/7?action=erase", "{}").status());
            assertEquals(400, post(url + "/completion", "{\"prompt\": \"x\", \"id_slot\": 9}").status());
            assertEquals(200, get(url + "/health").status(), "the server keeps serving");
        }
    }

    @Test
    void llamaServersMetricsFamilyCountsWhatTheEngineCounts() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, config().build())) {
            String url = s.baseUrl();
            for (int n : new int[] {1, 4, 16}) {
                assertEquals(200, post(url + "/completion", "{\"prompt\": \"I believe\", \"n_predict\": " + n + "}").status());
            }
            Reply m = get(url + "/metrics");
            assertTrue(m.header("Process-Start-Time-Unix") != null);
            String text = m.raw().body();
            org.llamajava.batch.EngineStats stats = s.engineStats();
            assertTrue(text.contains("# TYPE llamacpp:tokens_predicted_total counter"), text);
            assertTrue(text.contains("\nllamacpp:tokens_predicted_total " + (double) stats.tokensGenerated() + "\n"), text);
            assertTrue(text.contains("\nllamacpp:n_decode_total " + (double) stats.decodes() + "\n"), text);
            assertTrue(text.contains("\nllamacpp:requests_processing 0.0\n"), text);
        }
    }

    @Test
    void severalHostsEachServe() throws Exception {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.bind(new java.net.InetSocketAddress("::1", 0));
        } catch (java.io.IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback here");
        }
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, config().host("127.0.0.1,::1").build())) {
            assertEquals(200, get("http://127.0.0.1:" + s.port() + "/health").status());
            assertEquals(200, get("http://[::1]:" + s.port() + "/health").status());
        }
    }

    @Test
    void endpointsOffUnlessAskedForAndAliases() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, config().slotsEndpoint(false).metricsEndpoint(false)
                     .modelName("code").modelAliases(List.of("code", "fim", "tinyllama-2"))
                     .modelTags(List.of("chat", "small")).build())) {
            String url = s.baseUrl();
            assertEquals(501, get(url + "/slots").status());
            assertEquals(501, get(url + "/metrics").status());
            assertEquals(501, post(url + "/slots/0?action=save", "{\"filename\": \"x.bin\"}").status(),
                    "no save folder: no save");
            JsonNode m = get(url + "/v1/models").json().get("data").get(0);
            assertEquals("code", m.get("id").asText());
            assertEquals(3, m.get("aliases").size());
            assertEquals("small", m.get("tags").get(1).asText());
        }
    }

    @Test
    void nativeCompletionPromptsProbabilitiesFieldsAndGrammar() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, config().build())) {
            String url = s.baseUrl();
            int[] tokens = model.vocabulary().tokenize("Once upon a time", true, true);
            String ids = java.util.Arrays.toString(tokens);
            Completion oracle = ServerFixture.greedy(model, tokens, 6);

            // several prompts: token ids, text, a JSON prompt; one answer each, in order, all the oracle's
            Reply many = post(url + "/completion", "{\"prompt\": [" + ids + ", \"Once upon a time\","
                    + " {\"prompt_string\": \"Once upon a time\"}], \"n_predict\": 6, \"temperature\": 0}");
            assertEquals(200, many.status(), many.raw().body());
            assertEquals(3, many.json().size());
            for (JsonNode one : many.json()) {
                assertEquals(oracle.text(), one.get("content").asText());
            }

            Reply probs = post(url + "/completion", "{\"prompt\": " + ids + ", \"n_predict\": 4, \"temperature\": 0,"
                    + " \"n_probs\": 3}");
            JsonNode cp = probs.json().get("completion_probabilities");
            assertEquals(4, cp.size(), probs.raw().body());
            for (int i = 0; i < 4; i++) {
                assertEquals(oracle.tokens()[i], cp.get(i).get("id").asInt(), "greedy picks the token reported");
                assertEquals(3, cp.get(i).get("top_logprobs").size());
                assertEquals(cp.get(i).get("id").asInt(), cp.get(i).get("top_logprobs").get(0).get("id").asInt(),
                        "greedy's token is the most likely one");
                assertTrue(cp.get(i).get("logprob").asDouble() <= 0);
            }

            Reply fields = post(url + "/completion", "{\"prompt\": " + ids + ", \"n_predict\": 3,"
                    + " \"response_fields\": [\"content\", \"generation_settings/n_predict\"]}");
            assertEquals(2, fields.json().size(), fields.raw().body());
            assertEquals(3, fields.json().get("generation_settings/n_predict").asInt());

            Reply grammar = post(url + "/completion", "{\"prompt\": \"Once\", \"n_predict\": 12, \"temperature\": 0,"
                    + " \"grammar\": \"root ::= \\\"yes\\\" | \\\"no\\\"\"}");
            assertTrue(List.of("yes", "no").contains(grammar.json().get("content").asText()), grammar.raw().body());
            Reply schema = post(url + "/completion", "{\"prompt\": \"Once\", \"n_predict\": 12, \"temperature\": 0,"
                    + " \"json_schema\": {\"const\": \"42\"}}");
            assertEquals("\"42\"", schema.json().get("content").asText(), schema.raw().body());
            assertEquals(400, post(url + "/completion", "{\"prompt\": \"Once\", \"grammar\": \"root ::= (\"}").status());
            assertEquals(400, post(url + "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}],"
                    + " \"response_format\": {\"type\": \"json_object\", \"schema\": {\"type\": \"hiccup\"}}}").status());
        }
    }

    @Test
    void contextOverflowAndVerbose() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, config().build())) {
            String url = s.baseUrl();
            String longText = "Once upon a time ".repeat(300);
            Reply over = post(url + "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": "
                    + ServerFixture.q(longText) + "}]}");
            assertEquals(400, over.status());
            assertEquals("exceed_context_size_error", over.error().get("type").asText());
            assertEquals(512, over.error().get("n_ctx").asInt());
            assertTrue(over.error().get("n_prompt_tokens").asInt() > 512);

            String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"Book\"}], \"max_tokens\": 2";
            Reply verbose = post(url + "/v1/chat/completions", chat + ", \"verbose\": true}");
            assertTrue(verbose.json().get("__verbose").get("prompt").asText().contains("<|im_start|>user\nBook"),
                    verbose.raw().body());
            assertFalse(post(url + "/v1/chat/completions", chat + "}").json().has("__verbose"));

            // llama-server's assistant prefill: the last assistant message is continued, not closed
            Reply prefill = post(url + "/apply-template", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"},"
                    + " {\"role\": \"assistant\", \"content\": \"Hello th\"}]}");
            assertTrue(prefill.json().get("prompt").asText().endsWith("<|im_start|>assistant\nHello th"),
                    prefill.raw().body());
            // llama-server's joins of text parts (test_chat_completion): a message's on lines of their own, an
            // assistant prefill's with a blank line between them
            Reply parts = post(url + "/apply-template", "{\"messages\": [{\"role\": \"user\", \"content\":"
                    + " [{\"type\": \"text\", \"text\": \"What is\"}, {\"type\": \"text\", \"text\": \"the best book\"}]},"
                    + " {\"role\": \"assistant\", \"content\": [{\"type\": \"text\", \"text\": \"Wh\"},"
                    + " {\"type\": \"text\", \"text\": \"ill\"}]}]}");
            assertEquals(200, parts.status(), parts.raw().body());
            assertTrue(parts.json().get("prompt").asText().endsWith("<|im_start|>user\nWhat is\nthe best book<|im_end|>\n"
                    + "<|im_start|>assistant\nWh\n\nill"), parts.raw().body());
            assertEquals(400, post(url + "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"},"
                    + " {\"role\": \"assistant\", \"content\": \"A\"}, {\"role\": \"assistant\", \"content\": \"B\"}]}")
                    .status(), "two assistant messages at the end");
            assertEquals(400, post(url + "/v1/chat/completions", "{\"add_generation_prompt\": true, \"continue_final_message\":"
                    + " true, \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}").status());

            Reply count = post(url + "/chat/completions/input_tokens", chat + "}");
            assertEquals(post(url + "/v1/chat/completions", chat + "}").json().get("usage").get("prompt_tokens").asInt(),
                    count.json().get("input_tokens").asInt());
        }
    }
}
