/**
 * An OpenAI-compatible HTTP server over one model: {@link org.llamajava.server.LlamaServer}
 * serves {@code /v1/chat/completions}, {@code /v1/completions} (blocking and streamed as
 * server-sent events), {@code /v1/embeddings}, {@code /v1/rerank}, {@code /v1/models},
 * {@code /tokenize}, {@code /detokenize}, {@code /health} and {@code /metrics} (Prometheus), with
 * many requests generated at once by {@link org.llamajava.batch.BatchEngine}.
 *
 * <p>Secure by default: it binds to 127.0.0.1, checks an API key when one is set, bounds request
 * bodies, prompts, {@code max_tokens}, {@code n} and its queue, reads no file a request names,
 * and sends no CORS headers unless origins are configured.
 */
package org.llamajava.server;
