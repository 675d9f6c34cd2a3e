/**
 * Spring AI models backed by llama-java, in process: {@link org.llamajava.springai.LlamaJavaChatModel}
 * (call, stream, tool calling through Spring AI's {@code ToolCallingManager}) and
 * {@link org.llamajava.springai.LlamaJavaEmbeddingModel}; the Spring Boot auto-configuration is in
 * {@code org.llamajava.springai.autoconfigure}. Built and tested with Spring AI 1.1.2 on Spring Boot 3.5.
 */
package org.llamajava.springai;
