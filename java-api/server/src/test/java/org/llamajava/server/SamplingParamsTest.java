package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.SamplingSettings;
import org.llamajava.TestSupport;

/**
 * The server maps a request's sampling fields onto core's {@link SamplingSettings}, as every
 * front end does: the same request gives the same settings (and chain) here as through the CLI and
 * the adapters (their tests check the same request against the same settings), and a request that
 * sets nothing gets llama-server's defaults, seed random.
 */
class SamplingParamsTest {
    @TempDir
    static Path tmp;

    private static SamplingParams read(String json) throws Exception {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp))) {
            ObjectNode body = (ObjectNode) new ObjectMapper().readTree(json);
            return SamplingParams.read(new JsonBody(body), true, 512, 4, m.vocabulary(), new LoraApi(null, null));
        }
    }

    /** The request every front end's test sends, as core's settings. */
    static final SamplingSettings SAME_REQUEST = SamplingSettings.builder().temperature(0.5f).topK(20).topP(0.9f)
            .frequencyPenalty(0.5f).presencePenalty(0.25f).seed(5_000_000_000L).build();

    @Test
    void theSameRequestGivesCoresSettings() throws Exception {
        SamplingParams p = read("{\"temperature\": 0.5, \"top_k\": 20, \"top_p\": 0.9, \"frequency_penalty\": 0.5,"
                + " \"presence_penalty\": 0.25, \"seed\": 5000000000}");
        assertEquals(SAME_REQUEST, p.sampling());
        assertEquals(SamplingSettings.defaults(), read("{}").sampling(), "nothing set: llama-server's defaults");
    }

    /** The server's flags (--temp, --seed, --top-k, ...) give the defaults; a request's fields win over them. */
    /** llama-server's -n is a default: a request may ask for more, up to the cap (a slot), and -1 is the cap. */
    @Test
    void maxTokensDefaultsToTheServersAndIsCappedAtASlot() throws Exception {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp))) {
            ObjectMapper json = new ObjectMapper();
            int[] expected = {64, 128, 256, 256};
            String[] bodies = {"{}", "{\"max_tokens\": 128}", "{\"max_tokens\": 100000}", "{\"max_tokens\": -1}"};
            for (int i = 0; i < bodies.length; i++) {
                SamplingParams p = SamplingParams.read(new JsonBody((ObjectNode) json.readTree(bodies[i])), true, 64, 256,
                        4, m.vocabulary(), new LoraApi(null, null), SamplingSettings.defaults());
                assertEquals(expected[i], p.maxTokens(), bodies[i]);
            }
        }
    }

    @Test
    void theServersDefaultsFillWhatARequestLeavesOut() throws Exception {
        SamplingSettings flags = SamplingSettings.defaults().toBuilder().temperature(0f).seed(42).topK(5)
                .repeatPenalty(1.1f).penaltyLastN(32).logitBias(java.util.Map.of(3, -2f)).build();
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp))) {
            ObjectNode empty = (ObjectNode) new ObjectMapper().readTree("{}");
            SamplingSettings got = SamplingParams.read(new JsonBody(empty), true, 512, 512, 4, m.vocabulary(),
                    new LoraApi(null, null), flags).sampling();
            assertEquals(flags, got);
            ObjectNode some = (ObjectNode) new ObjectMapper().readTree("{\"temperature\": 0.7, \"seed\": 7,"
                    + " \"logit_bias\": {\"4\": 1}}");
            SamplingSettings mixed = SamplingParams.read(new JsonBody(some), true, 512, 512, 4, m.vocabulary(),
                    new LoraApi(null, null), flags).sampling();
            assertEquals(flags.toBuilder().temperature(0.7f).seed(7).logitBias(java.util.Map.of(3, -2f, 4, 1f)).build(),
                    mixed);
        }
    }

    /** llama-server's forms of logit_bias: ids, text (its tokens), [key, bias] pairs, false to ban. */
    @Test
    void logitBiasInEachOfLlamaServersForms() throws Exception {
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp))) {
            int[] hello = m.vocabulary().tokenize(" hello", false, false);
            assertTrue(hello.length > 0);
            java.util.function.Function<String, java.util.Map<Integer, Float>> bias = json -> {
                try {
                    ObjectNode body = (ObjectNode) new ObjectMapper().readTree("{\"logit_bias\": " + json + "}");
                    return SamplingParams.read(new JsonBody(body), false, 512, 4, m.vocabulary(), new LoraApi(null, null))
                            .sampling().logitBias();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            java.util.Map<Integer, Float> byText = new java.util.LinkedHashMap<>();
            for (int t : hello) {
                byText.put(t, -100f);
            }
            assertEquals(byText, bias.apply("{\" hello\": -100}"), "text keys: each of its tokens");
            assertEquals(byText, bias.apply("[[\" hello\", -100]]"), "pairs of text and bias");
            assertEquals(java.util.Map.of(5, 2f), bias.apply("[[5, 2]]"), "pairs of id and bias");
            assertEquals(java.util.Map.of(5, Float.NEGATIVE_INFINITY), bias.apply("{\"5\": false}"), "false bans");
            for (String bad : new String[] {"[[5]]", "[5]", "{\"5\": true}", "{\"5\": 1000}", "[[99999999, 1]]", "3"}) {
                ApiException e = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class, () -> bias.apply(bad), bad);
                assertTrue(e.getMessage().contains("logit_bias") || e.getMessage().contains("not in the vocabulary"),
                        bad + ": " + e.getMessage());
            }
        }
    }
}
