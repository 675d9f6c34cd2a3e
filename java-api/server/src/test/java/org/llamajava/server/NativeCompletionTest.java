package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.server.ServerFixture.Reply;

/**
 * llama-server's native {@code /completion} (and {@code /completions}): the same generation as
 * {@code /v1/completions} in llama-server's own shape, its stream's events adding up to the
 * answer, and the fields llama.cpp's server test suite reads ({@code test_completion.py}).
 */
class NativeCompletionTest {
    @TempDir
    Path tmp;

    /**
     * llama-server's {@code post_sampling_probs}: the probabilities after the sampler chain. With
     * top-k 3 at temperature 1, each token's {@code top_probs} are the 3 candidates the chain left,
     * which sum to 1 (the raw {@code top_logprobs} give the 10 asked for, whose probabilities do
     * not); the sampled token's {@code prob} is its entry among them; the text is the same.
     */
    @Test
    void postSamplingProbabilitiesAreWhatTheSamplerChainLeft() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build())) {
            String common = "\"prompt\": \"Once upon a time\", \"n_predict\": 8, \"n_probs\": 10, \"seed\": 42,"
                    + " \"temperature\": 1, \"top_k\": 3, \"top_p\": 1, \"min_p\": 0";
            Reply raw = ServerFixture.post(s.baseUrl() + "/completion", "{" + common + "}");
            assertEquals(200, raw.status(), raw.raw().body());
            Reply post = ServerFixture.post(s.baseUrl() + "/completion", "{" + common + ", \"post_sampling_probs\": true}");
            assertEquals(200, post.status(), post.raw().body());
            assertEquals(raw.json().get("content").asText(), post.json().get("content").asText());
            JsonNode rawProbs = raw.json().get("completion_probabilities");
            JsonNode postProbs = post.json().get("completion_probabilities");
            assertEquals(8, postProbs.size());
            for (int t = 0; t < 8; t++) {
                assertEquals(10, rawProbs.get(t).get("top_logprobs").size());
                JsonNode e = postProbs.get(t);
                JsonNode top = e.get("top_probs");
                assertTrue(top.size() >= 1 && top.size() <= 3, e.toString());
                double sum = 0;
                double chosen = -1;
                for (JsonNode a : top) {
                    sum += a.get("prob").asDouble();
                    if (a.get("id").asInt() == e.get("id").asInt()) {
                        chosen = a.get("prob").asDouble();
                    }
                    assertEquals(rawProbs.get(t).get("top_logprobs").get(top.findValues("id").indexOf(a.get("id")))
                            .get("id").asInt(), a.get("id").asInt(), "the same order as the raw ones");
                }
                assertEquals(1.0, sum, 1e-3, e.toString());
                assertEquals(chosen, e.get("prob").asDouble(), 1e-6, e.toString());
                assertFalse(e.has("logprob"));
            }
        }
    }

    /** llama-server's per-request {@code n_keep}: an integer, -1 (the whole prompt) or more; anything else is a 400. */
    @Test
    void nKeepIsTakenAndCheckedPerRequest() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).contextSize(128).slots(1)
                     .contextShift(true).build())) {
            for (String keep : List.of("-1", "0", "4")) {
                Reply r = ServerFixture.post(s.baseUrl() + "/completion", "{\"prompt\": \"Once upon a time\","
                        + " \"n_predict\": 200, \"temperature\": 0, \"ignore_eos\": true, \"n_keep\": " + keep + "}");
                assertEquals(200, r.status(), r.raw().body());
                assertEquals(200, r.json().get("tokens_predicted").asInt(), "generated past the slot with n_keep " + keep);
            }
            for (String bad : List.of("-2", "\"x\"", "1.5")) {
                Reply r = ServerFixture.post(s.baseUrl() + "/completion", "{\"prompt\": \"Once\", \"n_keep\": " + bad + "}");
                assertEquals(400, r.status(), bad + ": " + r.raw().body());
            }
        }
    }

    @Test
    void theNativeShapeOfTheSameGeneration() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build())) {
            String url = s.baseUrl();
            Reply oai = ServerFixture.post(url + "/v1/completions",
                    "{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0}");
            assertEquals(200, oai.status(), oai.raw().body());
            String expected = oai.json().get("choices").get(0).get("text").asText();

            for (String path : List.of("/completion", "/completions")) {
                Reply r = ServerFixture.post(url + path, "{\"prompt\": \"Once upon a time\", \"n_predict\": 12,"
                        + " \"temperature\": 0, \"return_tokens\": true}");
                assertEquals(200, r.status(), r.raw().body());
                JsonNode b = r.json();
                assertEquals(expected, b.get("content").asText(), path);
                assertTrue(b.get("stop").asBoolean());
                assertEquals("limit", b.get("stop_type").asText());
                assertEquals(12, b.get("tokens_predicted").asInt());
                assertEquals(12, b.get("tokens").size());
                assertEquals(12, b.get("timings").get("predicted_n").asInt());
                assertEquals(12, b.get("generation_settings").get("n_predict").asInt());
                // as llama-server: the prompt's tokens as text, its BOS shown (llama.cpp's test: "<s> " + prompt)
                assertTrue(b.get("prompt").asText().endsWith(" Once upon a time"), b.get("prompt").asText());
                assertTrue(b.get("prompt").asText().startsWith("<s>"), b.get("prompt").asText());
                assertFalse(b.get("truncated").asBoolean());
                assertEquals(b.get("content").asText().contains("\n"), b.get("has_new_line").asBoolean());
            }
            Reply noTokens = ServerFixture.post(url + "/completion", "{\"prompt\": \"Once upon a time\", \"n_predict\": 4}");
            assertEquals(0, noTokens.json().get("tokens").size(), "tokens only with return_tokens");

            HttpResponse<java.util.stream.Stream<String>> stream = ServerFixture.HTTP.send(HttpRequest.newBuilder(
                    URI.create(url + "/completion")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once upon a time\", \"n_predict\": 12,"
                            + " \"temperature\": 0, \"stream\": true}")).build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, stream.statusCode());
            List<JsonNode> events = new ArrayList<>();
            List<String> lines = stream.body().toList();
            for (String line : lines) {
                if (line.startsWith("data: ")) {
                    events.add(ServerFixture.JSON.readTree(line.substring(6)));
                }
            }
            assertFalse(lines.contains("data: [DONE]"), "llama-server's native stream has no [DONE]");
            StringBuilder text = new StringBuilder();
            for (JsonNode e : events.subList(0, events.size() - 1)) {
                assertFalse(e.get("stop").asBoolean());
                assertTrue(e.get("tokens").size() > 0, e.toString());
                text.append(e.get("content").asText());
            }
            JsonNode last = events.get(events.size() - 1);
            assertTrue(last.get("stop").asBoolean());
            assertEquals("limit", last.get("stop_type").asText());
            assertTrue(last.has("generation_settings") && last.get("generation_settings").has("adaptive_target"));
            assertEquals(expected, text.toString(), "the stream's pieces are the answer");
        }
    }
}
