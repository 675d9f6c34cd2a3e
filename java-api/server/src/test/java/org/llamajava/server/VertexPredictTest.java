package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.get;
import static org.llamajava.server.ServerFixture.post;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.server.ServerFixture.Reply;

/**
 * Google Cloud Vertex AI's prediction route, as llama-server serves it under {@code AIP_MODE=PREDICTION}
 * (its test_compat_gcp): each instance answered as the endpoint its {@code @requestFormat} names
 * answers the same request directly, in order; llama-server's errors for a bad body or instance.
 */
class VertexPredictTest {
    @TempDir
    Path tmp;

    private static String chat(String text) {
        return "{\"max_tokens\": 8, \"temperature\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"" + text + "\"}]}";
    }

    private static String instance(String format, String request) {
        return "{\"@requestFormat\": \"" + format + "\", " + request.substring(1);
    }

    @Test
    void eachInstanceGetsWhatItsEndpointAnswersInOrder() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).slots(2)
                     .vertexPredict(new VertexPredict("/predict", "/ping")).build())) {
            String url = s.baseUrl();
            String hello = post(url + "/v1/chat/completions", chat("Say hello")).json()
                    .get("choices").get(0).get("message").get("content").asText();
            String world = post(url + "/v1/chat/completions", chat("Say world")).json()
                    .get("choices").get(0).get("message").get("content").asText();
            String tokens = post(url + "/tokenize", "{\"content\": \"Hello world\"}").json().get("tokens").toString();

            Reply r = post(url + "/predict", "{\"instances\": [" + instance("chatCompletions", chat("Say hello")) + ", "
                    + instance("/v1/chat/completions", chat("Say world").replace("{", "{\"stream\": true, ")) + ", "
                    + instance("tokenize", "{\"content\": \"Hello world\"}") + "]}");
            assertEquals(200, r.status(), r.raw().body());
            JsonNode p = r.json().get("predictions");
            assertEquals(3, p.size());
            assertEquals("assistant", p.get(0).get("choices").get(0).get("message").get("role").asText());
            assertEquals(hello, p.get(0).get("choices").get(0).get("message").get("content").asText());
            assertEquals(world, p.get(1).get("choices").get(0).get("message").get("content").asText(),
                    "a streamed instance is answered whole: the route does not stream");
            assertEquals(tokens, p.get(2).get("tokens").toString());
            assertEquals(200, get(url + "/ping").status(), "AIP_HEALTH_ROUTE answers as /health");
        }
    }

    @Test
    void badBodiesAndInstancesGetLlamaServersErrors() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config("sk-test")
                     .vertexPredict(new VertexPredict("/predict", null)).build())) {
            String url = s.baseUrl();
            String key = "Bearer sk-test";
            assertEquals(401, post(url + "/predict", "{\"instances\": []}").status(), "the key guards the route");
            Reply noInstances = post(url + "/predict", "{\"foo\": 1}", "Authorization", key);
            assertEquals(400, noInstances.status());
            assertTrue(noInstances.json().get("error").get("message").asText().contains("instances"));
            assertEquals(400, post(url + "/predict", "[1]", "Authorization", key).status());
            assertEquals(400, post(url + "/predict", "{\"instances\": [" + "1,".repeat(VertexPredict.MAX_INSTANCES)
                    + "1]}", "Authorization", key).status(), "more than 128 instances");

            Reply r = post(url + "/predict", "{\"instances\": [1, {\"max_tokens\": 2}, {\"@requestFormat\": \"nowhere\"},"
                    + instance("chatCompletions", chat("Hi")) + "]}", "Authorization", key);
            assertEquals(200, r.status(), r.raw().body());
            JsonNode p = r.json().get("predictions");
            assertEquals("each instance must be a JSON object", p.get(0).get("error").get("message").asText());
            assertEquals("each instance must include a string @requestFormat", p.get(1).get("error").get("message").asText());
            assertEquals("no handler registered for @requestFormat: nowhere", p.get(2).get("error").get("message").asText());
            assertEquals(400, p.get(2).get("error").get("code").asInt());
            assertTrue(p.get(3).get("choices").get(0).get("message").get("content").asText().length() > 0,
                    "the caller's key goes with the instance: " + p.get(3));
        }
    }

    @Test
    void aliasesAreLlamaServers() {
        assertEquals("chatCompletions", VertexPredictRoute.alias("/v1/chat/completions"));
        assertEquals("chatCompletions", VertexPredictRoute.alias("/chat/completions"));
        assertEquals("applyTemplate", VertexPredictRoute.alias("/apply-template"));
        assertEquals("messagesCountTokens", VertexPredictRoute.alias("/v1/messages/count_tokens"));
        assertEquals("slots", VertexPredictRoute.alias("/slots/:id_slot"));
        assertEquals("completion", VertexPredictRoute.alias("/completion"));
    }

    @Test
    void theEnvironmentTurnsItOnAsLlamaServersDoes() {
        assertNull(VertexPredict.fromEnvironment(Map.of()));
        assertNull(VertexPredict.fromEnvironment(Map.of("AIP_MODE", "TRAINING")));
        assertEquals(new VertexPredict("/predict", null), VertexPredict.fromEnvironment(Map.of("AIP_MODE", "PREDICTION")));
        assertEquals(new VertexPredict("/v1/endpoints/x:predict", "/healthz"), VertexPredict.fromEnvironment(
                Map.of("AIP_MODE", "PREDICTION", "AIP_PREDICT_ROUTE", "v1/endpoints/x:predict", "AIP_HEALTH_ROUTE", "/healthz")));
        assertEquals(9000, VertexPredict.port(Map.of(), 9000));
        assertEquals(8080, VertexPredict.port(Map.of("AIP_MODE", "PREDICTION"), 9000));
        assertEquals(7001, VertexPredict.port(Map.of("AIP_MODE", "PREDICTION", "AIP_HTTP_PORT", "7001"), 9000));
        assertThrows(IllegalArgumentException.class,
                () -> VertexPredict.port(Map.of("AIP_MODE", "PREDICTION", "AIP_HTTP_PORT", "eighty"), 9000));
    }
}
