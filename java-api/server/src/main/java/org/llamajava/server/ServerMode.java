package org.llamajava.server;

/**
 * What a {@link LlamaServer} serves with its model, as llama-server's {@code --embeddings} and
 * {@code --reranking} choose. Every mode also serves {@code /v1/models}, {@code /tokenize},
 * {@code /detokenize}, {@code /health} and {@code /metrics}.
 */
public enum ServerMode {
    /** Text generation: {@code /v1/chat/completions} and {@code /v1/completions} (the default). */
    COMPLETION,
    /** Embeddings: {@code /v1/embeddings}, with an embedding model (or any model, pooled by its last token). */
    EMBEDDING,
    /** Reranking: {@code /v1/rerank}, with a reranking (rank-pooling) model. */
    RERANK
}
