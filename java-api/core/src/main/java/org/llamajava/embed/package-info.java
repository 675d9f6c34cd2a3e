/**
 * Embeddings and reranking: {@link org.llamajava.embed.Embedder} turns texts into vectors
 * (pooled as the model says, batched, normalized), {@link org.llamajava.embed.Reranker} scores
 * documents against a query, {@link org.llamajava.embed.Similarity} compares vectors.
 */
package org.llamajava.embed;
