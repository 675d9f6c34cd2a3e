package org.llamajava.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.common.AbstractChatModelIT;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * LangChain4j's common {@code ChatModel} tests ({@code langchain4j-core:tests}) against
 * {@link LlamaChatModel} on stories260K. Tests whose assertions need a capable model's knowledge
 * (the answer names Berlin, translates to German, remembers "green", calls a tool with
 * {"city":"Munich"}) are disabled by {@link KitExclusions} with that reason; docs/integrations.md lists them.
 *
 * <p>The models pin their seed (42) and leave min-p out: the kit's checks on a random model's
 * replies (lengths, stop sequences) were written against that chain, and llama-java's default seed
 * is random.
 */
@ExtendWith(KitExclusions.class)
class ChatModelKitTest extends AbstractChatModelIT {
    private final KitModels kit = new KitModels();

    @AfterAll
    void closeModels() throws Exception {
        kit.close();
    }

    @Override
    protected List<ChatModel> models() {
        // a fresh adapter per test: JUnit closes AutoCloseable arguments after each parameterized invocation
        return List.of(kit.track(LlamaChatModel.builder().seed(42).minP(0).model(kit.stories()).contextSize(1024).build()));
    }

    @Override
    protected ChatModel createModelWith(ChatRequestParameters parameters) {
        return kit.track(LlamaChatModel.builder().seed(42).minP(0).model(kit.stories()).contextSize(1024)
                .defaultRequestParameters(parameters).build());
    }

    /** The adapter's request parameters are LangChain4j's own {@code DefaultChatRequestParameters}. */
    @Override
    protected ChatRequestParameters createIntegrationSpecificParameters(int maxOutputTokens) {
        return ChatRequestParameters.builder().maxOutputTokens(maxOutputTokens).build();
    }

    /** One adapter serves the model it was built with: another model name is an UnsupportedFeatureException. */
    @Override
    protected boolean supportsModelNameParameter() {
        return false;
    }

    @Override
    protected boolean supportsSingleImageInputAsBase64EncodedString() {
        return false;
    }

    @Override
    protected boolean supportsSingleImageInputAsPublicURL() {
        return false;
    }

}
