package org.llamajava.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import org.llamajava.Model;

/**
 * What every endpoint needs of its server: the configuration, the model and its name in
 * responses, JSON, and the metrics.
 *
 * @param fingerprint the {@code system_fingerprint} of responses: the model's fingerprint
 * @param streams     the conversation streams of streamed requests (they outlive a sleep)
 */
record ServerContext(ServerConfig config, Model model, String modelName, String fingerprint, ObjectMapper mapper,
                     ServerMetrics metrics, ConversationStreams streams) {

    /** The same with another model (a model loaded again on waking). */
    ServerContext withModel(Model m) {
        return new ServerContext(config, m, modelName, fingerprint, mapper, metrics, streams);
    }

    /** The request's JSON object, within the body limit. */
    JsonBody read(Context ctx) {
        return JsonBody.read(ctx, mapper, config.maxBodyBytes());
    }

    byte[] json(com.fasterxml.jackson.databind.JsonNode node) {
        try {
            return mapper.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
