package org.llamajava.springai.autoconfigure;

import java.nio.file.Files;
import java.nio.file.Path;
import org.llamajava.LlamaException;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.gguf.GgufException;
import org.llamajava.gguf.GgufFile;
import org.llamajava.springai.LlamaJavaChatModel;
import org.llamajava.springai.LlamaJavaChatOptions;
import org.llamajava.springai.LlamaJavaEmbeddingModel;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionEligibilityPredicate;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.Bean;

/**
 * Creates a {@link LlamaJavaChatModel} when {@code spring.ai.llamajava.chat.model} is set and a
 * {@link LlamaJavaEmbeddingModel} when {@code spring.ai.llamajava.embedding.model} is set; Spring AI's
 * ChatClient auto-configuration then offers a {@code ChatClient.Builder}. Both close with the
 * application context. A model file that is missing, not GGUF, or of the wrong kind (an embedding
 * model as chat model), or a chat template that is neither built in nor a file, fails startup with an error naming the property.
 */
@AutoConfiguration(afterName = "org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration")
@ConditionalOnClass(LlamaJavaChatModel.class)
@EnableConfigurationProperties({LlamaJavaChatProperties.class, LlamaJavaEmbeddingProperties.class})
public class LlamaJavaAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = LlamaJavaChatProperties.PREFIX, name = "model")
    public LlamaJavaChatModel llamaJavaChatModel(LlamaJavaChatProperties p, ObjectProvider<ToolCallingManager> tools,
                                                 ObjectProvider<ToolExecutionEligibilityPredicate> toolExecution) {
        String property = LlamaJavaChatProperties.PREFIX + ".model";
        GgufFile gguf = readGguf(property, p.getModel());
        String arch = gguf.architecture();
        if (arch != null && gguf.metadata().containsKey(arch + ".pooling_type")) {
            throw new InvalidConfigurationPropertyValueException(property, p.getModel(), "it is an embedding model ("
                    + arch + ", with a pooling type), not a chat model; configure it as "
                    + LlamaJavaEmbeddingProperties.PREFIX + ".model");
        }
        if (p.getContextSize() <= 0) {
            throw new InvalidConfigurationPropertyValueException(LlamaJavaChatProperties.PREFIX + ".context-size",
                    p.getContextSize(), "must be positive");
        }
        try {
            ChatTemplate.checkResolvableForChatApi(p.getChatTemplate());
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(LlamaJavaChatProperties.PREFIX + ".chat-template",
                    p.getChatTemplate(), e.getMessage());
        }
        LlamaJavaChatProperties.Options o = p.getOptions();
        LlamaJavaChatOptions defaults = LlamaJavaChatOptions.builder().temperature(o.getTemperature()).topP(o.getTopP())
                .topK(o.getTopK()).minP(o.getMinP()).maxTokens(o.getMaxTokens()).seed(o.getSeed()).build();
        try {
            return LlamaJavaChatModel.builder().modelPath(p.getModel()).gpuLayers(p.getGpuLayers())
                    .contextSize(p.getContextSize()).threads(p.getThreads()).chatTemplate(p.getChatTemplate())
                    .defaultOptions(defaults).toolCallingManager(tools.getIfAvailable())
                    .toolExecutionEligibilityPredicate(toolExecution.getIfUnique()).build();
        } catch (LlamaException | IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, p.getModel(),
                    "llama-java could not load it as a chat model: " + e.getMessage());
        }
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = LlamaJavaEmbeddingProperties.PREFIX, name = "model")
    public LlamaJavaEmbeddingModel llamaJavaEmbeddingModel(LlamaJavaEmbeddingProperties p) {
        String property = LlamaJavaEmbeddingProperties.PREFIX + ".model";
        readGguf(property, p.getModel());
        EmbedderParams.Builder params = EmbedderParams.builder();
        if (p.getThreads() != null) {
            params.threads(p.getThreads());
        }
        try {
            return LlamaJavaEmbeddingModel.builder().modelPath(p.getModel()).gpuLayers(p.getGpuLayers())
                    .params(params.build()).build();
        } catch (LlamaException | IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, p.getModel(),
                    "llama-java could not load it as an embedding model: " + e.getMessage());
        }
    }

    /** The file's GGUF metadata, read in Java before any native call; a clear error naming the property otherwise. */
    private static GgufFile readGguf(String property, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidConfigurationPropertyValueException(property, file,
                    "no such file (" + file.toAbsolutePath() + "); give the path of a GGUF model");
        }
        try {
            GgufFile.checkReadableGguf(file);
            return GgufFile.read(file);
        } catch (GgufException | IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, file, "not a readable GGUF model: "
                    + e.getMessage());
        }
    }
}
