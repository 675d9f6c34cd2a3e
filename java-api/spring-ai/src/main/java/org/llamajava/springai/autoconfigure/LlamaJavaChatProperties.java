package org.llamajava.springai.autoconfigure;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code spring.ai.llamajava.chat.*}: the chat model's GGUF file (setting {@code model} turns the
 * chat model on), how it is loaded and run, and sampling defaults ({@code options.*}) that each
 * prompt's own options override.
 */
@ConfigurationProperties(LlamaJavaChatProperties.PREFIX)
public class LlamaJavaChatProperties {
    public static final String PREFIX = "spring.ai.llamajava.chat";

    /** The GGUF file of the chat model. */
    private Path model;
    /** Tokens of the context. */
    private int contextSize = 4096;
    /** Threads (default: llama-java's). */
    private Integer threads;
    /** Layers offloaded to the GPU (0: none, -1: all). */
    private int gpuLayers;
    /** A built-in chat template name (e.g. chatml) or a Jinja file; default: the model's own. */
    private String chatTemplate;
    /** Sampling defaults. */
    private final Options options = new Options();

    public Path getModel() { return model; }
    public void setModel(Path model) { this.model = model; }
    public int getContextSize() { return contextSize; }
    public void setContextSize(int contextSize) { this.contextSize = contextSize; }
    public Integer getThreads() { return threads; }
    public void setThreads(Integer threads) { this.threads = threads; }
    public int getGpuLayers() { return gpuLayers; }
    public void setGpuLayers(int gpuLayers) { this.gpuLayers = gpuLayers; }
    public String getChatTemplate() { return chatTemplate; }
    public void setChatTemplate(String chatTemplate) { this.chatTemplate = chatTemplate; }
    public Options getOptions() { return options; }

    /** {@code spring.ai.llamajava.chat.options.*}: sampling defaults. */
    public static class Options {
        /** Temperature; 0 samples greedily. The defaults are llama-server's (core's SamplingSettings). */
        private Double temperature = 0.8;
        private Double topP = 0.95;
        private Integer topK = 40;
        /** Most tokens of a reply. */
        private Integer maxTokens = 512;
        /** Min-p; 0 is off. */
        private Double minP = 0.05;
        /** Seed of the sampler (unset: random, as llama-server's). */
        private Long seed;

        public Double getTemperature() { return temperature; }
        public void setTemperature(Double temperature) { this.temperature = temperature; }
        public Double getTopP() { return topP; }
        public void setTopP(Double topP) { this.topP = topP; }
        public Integer getTopK() { return topK; }
        public void setTopK(Integer topK) { this.topK = topK; }
        public Integer getMaxTokens() { return maxTokens; }
        public void setMaxTokens(Integer maxTokens) { this.maxTokens = maxTokens; }
        public Double getMinP() { return minP; }
        public void setMinP(Double minP) { this.minP = minP; }
        public Long getSeed() { return seed; }
        public void setSeed(Long seed) { this.seed = seed; }
    }
}
