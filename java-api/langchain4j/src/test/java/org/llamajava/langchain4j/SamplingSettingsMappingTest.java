package org.llamajava.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.SamplingSettings;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatTemplate;

/**
 * The LangChain4j adapters sample as every llama-java front end does (core's
 * {@link SamplingSettings}: llama-server's defaults, min-p on, seed random unless set) and follow
 * core's rule for chat templates: a built-in template other than chatml is refused when the
 * adapter is built.
 */
class SamplingSettingsMappingTest {
    @TempDir
    static Path tmp;

    @Test
    void theSameRequestGivesCoresSettingsAndNothingSetGivesTheDefaults() throws Exception {
        try (ChatEngine engine = LlamaChatModel.builder().modelPath(TestSupport.writeTinyModel(tmp)).contextSize(256)
                .seed(5_000_000_000L).engine()) {
            ChatRequestParameters same = ChatRequestParameters.builder().temperature(0.5).topK(20).topP(0.9)
                    .frequencyPenalty(0.5).presencePenalty(0.25).build();
            assertEquals(SamplingSettings.builder().temperature(0.5f).topK(20).topP(0.9f).frequencyPenalty(0.5f)
                    .presencePenalty(0.25f).seed(5_000_000_000L).build(),
                    engine.settings(engine.defaultRequestParameters().overrideWith(same)));
        }
        try (ChatEngine engine = LlamaChatModel.builder().modelPath(TestSupport.writeTinyModel(tmp)).contextSize(256)
                .engine()) {
            assertEquals(SamplingSettings.defaults(), engine.settings(engine.defaultRequestParameters()));
        }
    }

    @Test
    void aBuiltinTemplateOtherThanChatmlIsRefusedWhenBuilt() {
        Path model = TestSupport.writeTinyModel(tmp);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaChatModel.builder().modelPath(model).chatTemplate(ChatTemplate.builtin("llama2")).build());
        assertTrue(e.getMessage().contains("plain chats only"), e.getMessage());
        LlamaChatModel.builder().modelPath(model).contextSize(256).chatTemplate(ChatTemplate.builtin("chatml")).build()
                .close();
    }
}
