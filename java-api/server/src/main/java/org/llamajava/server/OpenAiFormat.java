package org.llamajava.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GeneratedToken;
import org.llamajava.Timings;
import org.llamajava.TokenProbability;
import org.llamajava.Vocabulary;

/** The parts of OpenAI's response shapes that the endpoints share. */
final class OpenAiFormat {
    private static final SecureRandom RANDOM = new SecureRandom();
    static final JsonNodeFactory F = JsonNodeFactory.instance;

    private OpenAiFormat() {}

    /** A response id: the prefix and 24 random hex digits. */
    static String id(String prefix) {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }

    static long now() {
        return System.currentTimeMillis() / 1000;
    }

    /** OpenAI's finish reason: "stop" for an end-of-generation token or a stop string, "length" for max_tokens or a full slot. */
    static String finishReason(FinishReason r) {
        return switch (r) {
            case END_OF_GENERATION, STOP_STRING, GRAMMAR_REJECTED -> "stop";
            case MAX_TOKENS -> "length";
            case CANCELLED -> "cancelled";
        };
    }

    /** {@code usage}: prompt tokens (evaluated and reused), generated tokens, and the reused ones in {@code prompt_tokens_details.cached_tokens}. */
    static ObjectNode usage(int promptTokens, int completionTokens, int cachedTokens) {
        ObjectNode u = F.objectNode();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        u.putObject("prompt_tokens_details").put("cached_tokens", cachedTokens);
        return u;
    }

    static ObjectNode usage(int promptTokens, List<Completion> done) {
        return usage(promptTokens, Generation.completionTokens(done), done.isEmpty() ? 0 : done.get(0).cachedTokens());
    }

    /** llama-server's {@code timings} extension, for the first choice. */
    static ObjectNode timings(Completion c) {
        Timings t = c.timings();
        ObjectNode o = F.objectNode();
        o.put("cache_n", c.cachedTokens());
        o.put("prompt_n", t.promptTokens());
        double promptMs = t.promptNanos() / 1e6;
        double predictedMs = t.generationNanos() / 1e6;
        o.put("prompt_ms", promptMs);
        o.put("prompt_per_token_ms", t.promptTokens() > 0 ? promptMs / t.promptTokens() : 0);
        o.put("prompt_per_second", t.promptTokensPerSecond());
        o.put("predicted_n", t.generatedTokens());
        o.put("predicted_ms", predictedMs);
        // as llama-server: the first token comes from the prompt's last batch, so the rate is over the other ones
        int steps = t.generatedTokens() - 1;
        o.put("predicted_per_token_ms", steps > 0 && predictedMs > 0 ? predictedMs / steps : 0);
        o.put("predicted_per_second", steps > 0 && predictedMs > 0 ? 1e3 / predictedMs * steps : 0);
        return o;
    }

    /** Chat's {@code logprobs.content}: one entry per token (end-of-generation tokens left out). */
    static ObjectNode chatLogprobs(List<GeneratedToken> tokens, Vocabulary vocab, int top) {
        ObjectNode o = F.objectNode();
        ArrayNode content = o.putArray("content");
        for (GeneratedToken t : tokens) {
            if (vocab.isEndOfGeneration(t.token())) {
                continue;
            }
            ObjectNode e = tokenEntry(vocab, t.token(), t.logprob());
            ArrayNode alts = e.putArray("top_logprobs");
            for (TokenProbability p : t.alternatives().subList(0, Math.min(top, t.alternatives().size()))) {
                alts.add(tokenEntry(vocab, p.token(), p.logprob()));
            }
            content.add(e);
        }
        o.putNull("refusal");
        return o;
    }

    private static ObjectNode tokenEntry(Vocabulary vocab, int token, float logprob) {
        String piece = vocab.tokenPiece(token);
        ObjectNode e = F.objectNode();
        e.put("id", token);
        e.put("token", piece);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return e;
    }

    /** The legacy completions' {@code logprobs}: tokens, their log-probabilities, the top alternatives, text offsets. */
    static ObjectNode legacyLogprobs(List<GeneratedToken> tokens, Vocabulary vocab, int top, int offset) {
        ObjectNode o = F.objectNode();
        ArrayNode toks = o.putArray("tokens");
        ArrayNode lps = o.putArray("token_logprobs");
        ArrayNode tops = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int at = offset;
        for (GeneratedToken t : tokens) {
            if (vocab.isEndOfGeneration(t.token())) {
                continue;
            }
            String piece = vocab.tokenPiece(t.token());
            toks.add(piece);
            lps.add(t.logprob());
            ObjectNode alts = tops.addObject();
            for (TokenProbability p : t.alternatives().subList(0, Math.min(top, t.alternatives().size()))) {
                alts.put(vocab.tokenPiece(p.token()), p.logprob());
            }
            offsets.add(at);
            at += piece.length();
        }
        return o;
    }
}
