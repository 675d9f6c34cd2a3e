package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llamajava.GenerateOptions;
import org.llamajava.Sampler;
import org.llamajava.SamplingSettings;
import org.llamajava.Vocabulary;

/**
 * The generation fields shared by {@code /v1/chat/completions} and {@code /v1/completions}, read
 * and range-checked. Sampling maps onto core's {@link SamplingSettings}, whose defaults are
 * llama-server's (temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, seed random);
 * {@code temperature <= 0} is greedy. llama-server's {@code top_k}, {@code min_p},
 * {@code repeat_penalty} and {@code ignore_eos} are read too.
 *
 * @param n                choices to generate
 * @param maxTokens        most tokens per choice
 * @param stop             stop strings (never part of the text)
 * @param sampling         the sampler settings of choice 0 (choice i gets seed + i unless random)
 * @param logprobs         whether to report each token's log-probability
 * @param topLogprobs      alternatives to report per token
 * @param stream           whether to stream server-sent events
 * @param includeUsage     whether a stream ends with a usage chunk
 * @param lora             llama-server's {@code lora}: the request's LoRA adapters and scales, or
 *                         null for the server's
 * @param grammar          completions' {@code grammar} (GBNF) or {@code json_schema}, or null (a
 *                         chat's come with its prompt, {@link ChatPrompt})
 * @param slot             llama-server's {@code id_slot}: the slot to generate in, or -1 for any
 * @param returnProgress   llama-server's {@code return_progress}: a stream reports the prompt's progress
 * @param postSampling     llama-server's {@code post_sampling_probs}: the reported probabilities are
 *                         those after the sampler chain (see {@link GenerateOptions#postSamplingProbs()})
 * @param nKeep            llama-server's {@code n_keep}, the tokens a context shift keeps, with the BOS
 *                         token as it counts it: N (n_keep and the BOS token), or -1 - B for the whole
 *                         prompt and B more (n_keep -1); null for the server's ({@code --keep}); see
 *                         {@link #keepTokens(int)}
 */
record SamplingParams(int n, int maxTokens, List<String> stop, SamplingSettings sampling, boolean logprobs,
                      int topLogprobs, boolean stream, boolean includeUsage, Map<org.llamajava.LoraAdapter, Float> lora,
                      org.llamajava.grammar.Grammar grammar, int slot, boolean returnProgress, boolean postSampling,
                      Integer nKeep) {

    static final int MAX_STOP = 16;
    static final int MAX_STOP_LENGTH = 256;
    static final int MAX_LOGIT_BIAS = 1024;
    /** Longest text a {@code logit_bias} entry may name. */
    static final int MAX_LOGIT_BIAS_TEXT = 256;
    static final int MAX_TOP_LOGPROBS = 20;

    /**
     * Reads the fields.
     *
     * @param chat      chat's field names ({@code max_completion_tokens}, {@code logprobs} as a
     *                  boolean with {@code top_logprobs}) instead of the legacy completions' ones
     * @param maxTokens the default {@code max_tokens} (the server's {@code -n})
     * @param cap       the most a request may ask for (a slot's size); more is capped
     * @param maxN      the server's cap on {@code n}
     * @param loras     reads the {@code lora} field
     */
    static SamplingParams read(JsonBody b, boolean chat, int maxTokens, int maxN, Vocabulary vocab, LoraApi loras) {
        return read(b, chat, maxTokens, maxTokens, maxN, vocab, loras, SamplingSettings.defaults());
    }

    /** {@link #read(JsonBody, boolean, int, int, Vocabulary, LoraApi)} over the server's defaults {@code d} (its flags). */
    static SamplingParams read(JsonBody b, boolean chat, int maxTokens, int cap, int maxN, Vocabulary vocab,
                               LoraApi loras, SamplingSettings d) {
        int n = (int) b.integer("n", 1, 1, maxN);
        String maxField = chat && b.has("max_completion_tokens") ? "max_completion_tokens"
                : b.has("max_tokens") ? "max_tokens" : "n_predict";
        // as llama-server: -n is the default, a request may ask for more (up to a slot's size: more would not fit),
        // and -1 means as many as fit
        long asked = b.integer(maxField, maxTokens, -1, Long.MAX_VALUE);
        int max = asked < 0 ? cap : (int) Math.min(asked, cap);
        List<String> stop = b.strings("stop", MAX_STOP);
        for (String s : stop) {
            if (s.isEmpty() || s.length() > MAX_STOP_LENGTH) {
                throw ApiException.invalid("stop", "stop strings must have 1 to " + MAX_STOP_LENGTH + " characters");
            }
        }
        float temperature = (float) b.number("temperature", d.temperature(), 0, 100);
        float topP = (float) b.number("top_p", d.topP(), 0, 1);
        int topK = (int) b.integer("top_k", d.topK(), 0, Integer.MAX_VALUE);
        float minP = (float) b.number("min_p", d.minP(), 0, 1);
        if (minP >= 1) {
            throw ApiException.invalid("min_p", "'min_p' must be below 1");
        }
        float presence = (float) b.number("presence_penalty", d.presencePenalty(), -2, 2);
        float frequency = (float) b.number("frequency_penalty", d.frequencyPenalty(), -2, 2);
        float repeat = (float) b.number("repeat_penalty", d.repeatPenalty(), 0.01, 100);
        Map<Integer, Float> bias = new LinkedHashMap<>(d.logitBias());
        bias.putAll(logitBias(b, vocab));
        if (b.bool("ignore_eos", false)) { // llama-server's extension: generate max_tokens whatever the model says
            for (int t : new int[] {vocab.eos(), vocab.eot()}) {
                if (t != Vocabulary.NO_TOKEN && vocab.isEndOfGeneration(t)) {
                    bias.put(t, Float.NEGATIVE_INFINITY);
                }
            }
        }
        long seed = b.integer("seed", d.seed(), Long.MIN_VALUE, Long.MAX_VALUE);
        boolean logprobs;
        int top;
        if (chat) {
            logprobs = b.bool("logprobs", false);
            top = (int) b.integer("top_logprobs", 0, 0, MAX_TOP_LOGPROBS);
            if (top > 0 && !logprobs) {
                throw ApiException.invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
            }
        } else if (b.has("n_probs")) { // llama-server's native field
            top = (int) b.integer("n_probs", 0, 0, MAX_TOP_LOGPROBS);
            logprobs = top > 0;
        } else {
            logprobs = b.has("logprobs");
            top = (int) b.integer("logprobs", 0, 0, MAX_TOP_LOGPROBS);
        }
        boolean stream = b.bool("stream", false);
        boolean includeUsage = false;
        JsonNode so = b.get("stream_options");
        if (so != null) {
            if (!so.isObject()) {
                throw JsonBody.wrongType("stream_options", "an object", so);
            }
            includeUsage = new JsonBody((com.fasterxml.jackson.databind.node.ObjectNode) so).bool("include_usage", false);
        }
        SamplingSettings sampling = SamplingSettings.builder().temperature(temperature).topP(topP).topK(topK).minP(minP)
                .penaltyLastN(d.penaltyLastN()).repeatPenalty(repeat).frequencyPenalty(frequency).presencePenalty(presence)
                .logitBias(bias).seed(seed).build();
        return new SamplingParams(n, max, List.copyOf(stop), sampling, logprobs, top, stream, includeUsage, loras.read(b),
                chat ? null : grammar(b), (int) b.integer("id_slot", -1, -1, org.llamajava.ContextParams.MAX_SEQUENCES),
                b.bool("return_progress", false), b.bool("post_sampling_probs", false),
                nKeep(b, vocab));
    }

    /**
     * llama-server's {@code grammar} (GBNF text) or {@code json_schema} (a JSON Schema object), or
     * null; 400 for a grammar llama.cpp would not parse or a schema it cannot convert.
     */
    static org.llamajava.grammar.Grammar grammar(JsonBody b) {
        JsonNode g = b.get("grammar");
        JsonNode schema = b.get("json_schema");
        if (g != null && schema != null) {
            throw ApiException.invalid("grammar", "give 'grammar' or 'json_schema', not both");
        }
        if (g != null) {
            if (!g.isTextual()) {
                throw JsonBody.wrongType("grammar", "GBNF text", g);
            }
            if (g.textValue().isBlank()) {
                return null;
            }
            try {
                return org.llamajava.grammar.Grammar.gbnf(g.textValue());
            } catch (IllegalArgumentException | org.llamajava.LlamaException e) {
                throw ApiException.invalid("grammar", "'grammar' is not valid GBNF: " + e.getMessage());
            }
        }
        if (schema != null) {
            return ChatPrompt.schema("json_schema", schema).toGrammar();
        }
        return null;
    }

    /**
     * {@code logit_bias} in each of llama-server's forms: OpenAI's object of token ids to biases, an
     * object whose keys are text (each of the text's tokens gets the bias), or an array of
     * {@code [token id or text, bias]} pairs; a bias of {@code false} bans the token. Token ids
     * outside the vocabulary are refused (llama-server ignores them).
     */
    private static Map<Integer, Float> logitBias(JsonBody b, Vocabulary vocab) {
        JsonNode v = b.get("logit_bias");
        Map<Integer, Float> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!v.isObject() && !v.isArray()) {
            throw JsonBody.wrongType("logit_bias", "an object of token ids (or text) to biases, or an array of"
                    + " [token id or text, bias] pairs", v);
        }
        if (v.size() > MAX_LOGIT_BIAS) {
            throw ApiException.invalid("logit_bias", "'logit_bias' has " + v.size() + " entries; at most " + MAX_LOGIT_BIAS);
        }
        if (v.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode key;
                try {
                    key = com.fasterxml.jackson.databind.node.IntNode.valueOf(Integer.parseInt(e.getKey()));
                } catch (NumberFormatException x) {
                    key = com.fasterxml.jackson.databind.node.TextNode.valueOf(e.getKey());
                }
                put(out, key, e.getValue(), vocab);
            }
        } else {
            for (JsonNode pair : v) {
                if (!pair.isArray() || pair.size() != 2) {
                    throw ApiException.invalid("logit_bias", "each 'logit_bias' entry of an array is a [token id or text,"
                            + " bias] pair");
                }
                put(out, pair.get(0), pair.get(1), vocab);
            }
        }
        return out;
    }

    private static void put(Map<Integer, Float> out, JsonNode key, JsonNode value, Vocabulary vocab) {
        float bias;
        if (value.isBoolean() && !value.booleanValue()) {
            bias = Float.NEGATIVE_INFINITY; // llama-server: false bans the token
        } else if (value.isNumber() && Math.abs(value.doubleValue()) <= 100) {
            bias = value.floatValue();
        } else {
            throw ApiException.invalid("logit_bias", "'logit_bias' values are numbers in [-100, 100], or false to ban");
        }
        if (key.isIntegralNumber()) {
            int token = key.intValue();
            if (!key.canConvertToInt() || token < 0 || token >= vocab.size()) {
                throw ApiException.invalid("logit_bias", "token " + key + " is not in the vocabulary (0 to "
                        + (vocab.size() - 1) + ")");
            }
            out.put(token, bias);
        } else if (key.isTextual()) {
            if (key.textValue().length() > MAX_LOGIT_BIAS_TEXT) {
                throw ApiException.invalid("logit_bias", "a 'logit_bias' text has at most " + MAX_LOGIT_BIAS_TEXT
                        + " characters");
            }
            for (int t : vocab.tokenize(key.textValue(), false, false)) { // as llama-server tokenizes it
                out.put(t, bias);
            }
        } else {
            throw ApiException.invalid("logit_bias", "a 'logit_bias' key is a token id or text, not " + JsonBody.kind(key));
        }
    }

    /** The sampler chain of choice {@code i}: the request's settings, choice i seeded seed + i unless random. */
    Sampler.Builder sampler(int i) {
        long seed = sampling.seed();
        return (seed == SamplingSettings.RANDOM_SEED ? sampling : sampling.withSeed(seed + i)).samplerBuilder();
    }

    /** llama-server's n_keep: -1 keeps the prompt; the BOS token counts on top, as llama-server adds it. */
    private static Integer nKeep(JsonBody b, Vocabulary vocab) {
        JsonNode v = b.get("n_keep");
        if (v == null || v.isNull()) {
            return null;
        }
        int n = (int) b.integer("n_keep", -1, -1, Integer.MAX_VALUE - 1);
        int bos = vocab != null && vocab.addsBos() ? 1 : 0;
        return n < 0 ? -1 - bos : n + bos;
    }

    /** The request's keepTokens for a prompt of {@code promptLength} tokens: -1 for the engine's. */
    int keepTokens(int promptLength) {
        if (nKeep == null) {
            return -1;
        }
        return nKeep >= 0 ? nKeep : (int) Math.min(Integer.MAX_VALUE, (long) promptLength - 1 - nKeep);
    }

    /** Options with the limits and stop strings; the caller adds callbacks. */
    GenerateOptions.Builder options() {
        return GenerateOptions.builder().maxTokens(maxTokens).stop(stop)
                .logprobs(logprobs ? Math.max(1, topLogprobs) : 0).postSamplingProbs(postSampling);
    }
}
