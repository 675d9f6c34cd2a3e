package org.llamajava.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.llamajava.SamplingSettings;
import org.llamajava.TestSupport;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Through Spring Boot's auto-configuration (the mapping itself is tested in llama-java-spring-ai's
 * LlamaJavaModelsTest): the Spring AI adapter samples as every llama-java front end does (core's {@link SamplingSettings},
 * llama-server's defaults, seed random unless set, min-p on) and follows core's one rule for chat
 * templates: the built-in chatml works for every call, tools or not; another built-in template is
 * refused when it is configured, with the reason.
 */
class SpringAiSamplingAndTemplateTest {

    @Test
    void theDefaultsAreCoresAndTheSeedIsRandom() {
        try (LlamaJavaChatModel chat = LlamaJavaChatModel.builder().modelPath(TestSupport.sharedModel("stories260K.gguf"))
                .build()) {
            assertEquals(SamplingSettings.defaults(), LlamaJavaChatModel.settings(chat.getDefaultOptions()));
        }
    }

    @Test
    void theBuiltinChatmlWorksWithoutTools() {
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        try (ConfigurableApplicationContext ctx = SpringAiToolsAndLifecycleTest.start("spring.ai.llamajava.chat.model="
                + stories, "spring.ai.llamajava.chat.chat-template=chatml", "spring.ai.llamajava.chat.context-size=1024",
                "spring.ai.llamajava.chat.options.max-tokens=8")) {
            String reply = ctx.getBean(ChatClient.Builder.class).build().prompt("Once upon a time").call().content();
            assertFalse(reply == null, "a reply");
        }
    }

    @Test
    void anotherBuiltinTemplateIsRefusedAtConfiguration() {
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        Throwable t = SpringAiToolsAndLifecycleTest.startupFailure("spring.ai.llamajava.chat.model=" + stories,
                "spring.ai.llamajava.chat.chat-template=llama2");
        assertInstanceOf(InvalidConfigurationPropertyValueException.class, t);
        assertTrue(t.getMessage().contains("spring.ai.llamajava.chat.chat-template") && t.getMessage().contains("llama2"),
                t.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaJavaChatModel.builder().modelPath(Path.of("never-loaded.gguf")).chatTemplate("llama2").build());
        assertTrue(e.getMessage().contains("plain chats only"), e.getMessage());
    }
}
