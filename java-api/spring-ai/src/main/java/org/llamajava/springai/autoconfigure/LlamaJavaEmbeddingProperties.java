package org.llamajava.springai.autoconfigure;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** {@code spring.ai.llamajava.embedding.*}: the embedding model's GGUF file (setting it turns the embedding model on). */
@ConfigurationProperties(LlamaJavaEmbeddingProperties.PREFIX)
public class LlamaJavaEmbeddingProperties {
    public static final String PREFIX = "spring.ai.llamajava.embedding";

    /** The GGUF file of the embedding model. */
    private Path model;
    /** Layers offloaded to the GPU (0: none, -1: all). */
    private int gpuLayers;
    /** Threads (default: llama-java's). */
    private Integer threads;

    public Path getModel() { return model; }
    public void setModel(Path model) { this.model = model; }
    public int getGpuLayers() { return gpuLayers; }
    public void setGpuLayers(int gpuLayers) { this.gpuLayers = gpuLayers; }
    public Integer getThreads() { return threads; }
    public void setThreads(Integer threads) { this.threads = threads; }
}
