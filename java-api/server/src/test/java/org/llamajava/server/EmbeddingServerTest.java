package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.post;
import static org.llamajava.server.ServerFixture.q;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.embed.RerankModels;
import org.llamajava.embed.Reranker;
import org.llamajava.server.ServerFixture.Reply;

/**
 * The embedding and rerank modes over plain HTTP: {@code /v1/rerank} scores equal the
 * {@link Reranker}'s and come best first; each mode refuses the other endpoints with 501 and bad
 * input with 400.
 */
class EmbeddingServerTest {
    private static final List<String> DOCS = List.of("Llamas eat grass and hay.", "Paris is in France.",
            "The JVM runs Java.", "Alpacas and llamas graze in the Andes.");

    @TempDir
    Path tmp;

    @Test
    void rerankScoresEqualTheRerankersBestFirst() throws Exception {
        Path file = RerankModels.write(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"), tmp.resolve("rank.gguf"),
                3, null);
        try (Model model = Model.load(file);
             LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1).mode(ServerMode.RERANK)
                     .maxInputs(8).build());
             Reranker oracle = Reranker.create(model)) {
            float[] expected = oracle.score("what do llamas eat?", DOCS);
            Reply r = post(s.baseUrl() + "/v1/rerank", "{\"model\": \"any\", \"query\": \"what do llamas eat?\","
                    + " \"documents\": " + ServerFixture.JSON.writeValueAsString(DOCS) + ", \"top_n\": 3,"
                    + " \"return_documents\": true}");
            assertEquals(200, r.status(), r.raw().body());
            JsonNode results = r.json().get("results");
            assertEquals(3, results.size());
            double previous = Double.POSITIVE_INFINITY;
            for (JsonNode e : results) {
                int i = e.get("index").asInt();
                double score = e.get("relevance_score").asDouble();
                assertEquals(expected[i], score, 1e-6, "document " + i);
                assertEquals(DOCS.get(i), e.get("document").get("text").asText());
                assertTrue(score <= previous, "best first");
                previous = score;
            }
            assertTrue(r.json().get("usage").get("prompt_tokens").asInt() > 0);
            Reply alias = post(s.baseUrl() + "/rerank", "{\"query\": \"q\", \"documents\": [\"a\", {\"text\": \"b\"}]}");
            assertEquals(2, alias.json().get("results").size(), alias.raw().body());

            assertEquals(400, post(s.baseUrl() + "/v1/rerank", "{\"documents\": [\"a\"]}").status());
            assertEquals(400, post(s.baseUrl() + "/v1/rerank", "{\"query\": \"q\", \"documents\": \"a\"}").status());
            assertEquals(400, post(s.baseUrl() + "/v1/rerank", "{\"query\": \"q\", \"documents\": "
                    + ServerFixture.JSON.writeValueAsString(java.util.Collections.nCopies(9, "d")) + "}").status());
            assertEquals(501, post(s.baseUrl() + "/v1/embeddings", "{\"input\": \"a\"}").status());
            assertEquals(501, post(s.baseUrl() + "/v1/chat/completions",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}").status());
        }
    }

    private static void assertRow(float[] expected, JsonNode row, String what) {
        assertEquals(expected.length, row.size(), what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], row.get(i).floatValue(), 1e-5, what + ", dimension " + i);
        }
    }

    /**
     * llama-server's {@code --pooling none} (its test_embedding_pooling_none): {@code /embeddings}
     * gives one vector per token, not normalized, and {@code /v1/embeddings} refuses it (400); a
     * pooled server's {@code /embeddings} gives {@code [[vector]]}, scaled by {@code embd_normalize}.
     */
    @Test
    void poolingNoneAndLlamaServersEmbeddingsEndpoint() {
        String text = "hello hello hello";
        try (Model model = Model.load(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"))) {
            try (LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1)
                     .mode(ServerMode.EMBEDDING).pooling(org.llamajava.Pooling.NONE).build());
                 org.llamajava.embed.Embedder oracle = org.llamajava.embed.Embedder.create(model,
                         org.llamajava.embed.EmbedderParams.builder().threads(1).pooling(org.llamajava.Pooling.NONE)
                                 .normalization(org.llamajava.embed.Normalization.NONE).build())) {
                List<float[]> expected = oracle.embedTokens(text);
                Reply r = post(s.baseUrl() + "/embeddings", "{\"input\": " + q(text) + "}");
                assertEquals(200, r.status(), r.raw().body());
                JsonNode rows = r.json().get(0).get("embedding");
                assertEquals(5, rows.size(), "3 tokens and CLS and SEP, as llama-server's test counts them");
                for (int t = 0; t < expected.size(); t++) {
                    assertRow(expected.get(t), rows.get(t), "token " + t);
                }
                Reply oai = post(s.baseUrl() + "/v1/embeddings", "{\"input\": " + q(text) + "}");
                assertEquals(400, oai.status(), oai.raw().body());
                assertTrue(oai.error().get("message").asText().contains("not OAI compatible"), oai.raw().body());
                Reply content = post(s.baseUrl() + "/v1/embeddings", "{\"content\": " + q(text) + "}");
                assertEquals(5, content.json().get(0).get("embedding").size(), "\"content\" is llama-server's own shape");
            }
            try (LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1)
                     .mode(ServerMode.EMBEDDING).build());
                 org.llamajava.embed.Embedder l2 = org.llamajava.embed.Embedder.create(model,
                         org.llamajava.embed.EmbedderParams.builder().threads(1).build());
                 org.llamajava.embed.Embedder raw = org.llamajava.embed.Embedder.create(model,
                         org.llamajava.embed.EmbedderParams.builder().threads(1)
                                 .normalization(org.llamajava.embed.Normalization.NONE).build())) {
                Reply r = post(s.baseUrl() + "/embeddings", "{\"input\": [" + q(text) + ", \"a cat\"]}");
                assertEquals(200, r.status(), r.raw().body());
                assertEquals(2, r.json().size());
                assertEquals(1, r.json().get(1).get("index").asInt());
                assertEquals(1, r.json().get(0).get("embedding").size(), "one pooled vector");
                assertRow(l2.embed(text), r.json().get(0).get("embedding").get(0), "L2 by default");
                assertRow(l2.embed("a cat"), r.json().get(1).get("embedding").get(0), "the second input");
                String metrics = ServerFixture.get(s.baseUrl() + "/metrics").raw().body();
                assertTrue(metrics.contains("llamacpp:n_decode_total 1.0"), "two short inputs, one decode:\n" + metrics);
                assertTrue(metrics.contains("llamacpp:tokens_predicted_total 0.0"), metrics);
                Reply unscaled = post(s.baseUrl() + "/embeddings", "{\"input\": " + q(text) + ", \"embd_normalize\": -1}");
                assertRow(raw.embed(text), unscaled.json().get(0).get("embedding").get(0), "embd_normalize -1");
                Reply tooLong = post(s.baseUrl() + "/v1/embeddings", "{\"input\": " + q("word ".repeat(2000)) + "}");
                assertEquals(400, tooLong.status());
                assertTrue(tooLong.error().get("message").asText().contains("too large"), tooLong.raw().body());
                assertEquals(400, post(s.baseUrl() + "/embeddings", "{\"input\": \"a\", \"embd_normalize\": -2}").status());
            }
        }
    }

    @Test
    void embeddingModeRefusesWhatItCannotDo() {
        try (Model model = Model.load(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"));
             LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).threads(1).mode(ServerMode.EMBEDDING)
                     .maxInputs(4).build())) {
            String url = s.baseUrl() + "/v1/embeddings";
            Reply none = post(url, "{}");
            assertEquals(400, none.status());
            assertEquals("input", none.error().get("param").asText());
            // token ids are read as llama-server reads them: the text's own ids give the text's vector (the Embedder's)
            try (org.llamajava.embed.Embedder e = org.llamajava.embed.Embedder.create(model,
                    org.llamajava.embed.EmbedderParams.builder().threads(1).build())) {
                int[] ids = e.tokenize("a small cat");
                float[] expected = e.embed("a small cat");
                Reply byIds = post(url, "{\"input\": " + java.util.Arrays.toString(ids) + "}");
                assertEquals(200, byIds.status(), byIds.raw().body());
                com.fasterxml.jackson.databind.JsonNode v = byIds.json().get("data").get(0).get("embedding");
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], v.get(i).floatValue(), 1e-5, "dimension " + i);
                }
            }
            assertEquals(400, post(url, "{\"input\": [1, 2, 99999999]}").status(), "a token id outside the vocabulary");
            assertEquals(400, post(url, "{\"input\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}").status(), "too many");
            assertEquals(400, post(url, "{\"input\": \"a\", \"dimensions\": 7}").status());
            assertEquals(400, post(url, "{\"input\": \"a\", \"encoding_format\": \"hex\"}").status());
            assertEquals(400, post(url, "{\"input\": " + q("word ".repeat(2000)) + "}").status(), "longer than the context");
            assertEquals(501, post(s.baseUrl() + "/v1/completions", "{\"prompt\": \"a\"}").status());
            assertEquals(501, post(s.baseUrl() + "/v1/rerank", "{\"query\": \"q\", \"documents\": [\"a\"]}").status());
            Reply ok = post(url, "{\"input\": \"a\", \"dimensions\": 384}");
            assertEquals(384, ok.json().get("data").get(0).get("embedding").size(), ok.raw().body());
        }
    }
}
