/**
 * LangChain4j models backed by llama-java, in process (no server, no second runtime):
 * {@link org.llamajava.langchain4j.LlamaChatModel}, {@link org.llamajava.langchain4j.LlamaStreamingChatModel},
 * {@link org.llamajava.langchain4j.LlamaEmbeddingModel}, {@link org.llamajava.langchain4j.LlamaScoringModel}
 * and {@link org.llamajava.langchain4j.LlamaTokenCountEstimator}. Built and tested with LangChain4j 1.19.0.
 */
package org.llamajava.langchain4j;
