package org.llamajava.embed;

/**
 * A document with its relevance to a query, from {@link Reranker#topK}.
 *
 * @param index    the document's position in the list given
 * @param document the document's text
 * @param score    the model's relevance score (higher is more relevant)
 */
public record ScoredDocument(int index, String document, float score) {}
