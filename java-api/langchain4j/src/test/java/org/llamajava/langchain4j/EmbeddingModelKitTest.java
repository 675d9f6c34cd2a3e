package org.llamajava.langchain4j;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.common.AbstractEmbeddingModelIT;
import dev.langchain4j.model.embedding.listener.EmbeddingModelListener;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.llamajava.TestSupport;

/**
 * LangChain4j's common {@code EmbeddingModel} tests ({@code langchain4j-core:tests}) against
 * {@link LlamaEmbeddingModel} on all-MiniLM-L6-v2. The adapter takes text only and has no input
 * type or dimensions parameter, so the kit's own gates run its "fails when not supported" tests
 * instead of the image, input-type and dimensions ones. All of the kit runs.
 */
class EmbeddingModelKitTest extends AbstractEmbeddingModelIT {
    private final KitModels kit = new KitModels();

    @AfterAll
    void closeModels() throws Exception {
        kit.close();
    }

    private LlamaEmbeddingModel.Builder builder() {
        return LlamaEmbeddingModel.builder().modelPath(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"));
    }

    @Override
    protected List<EmbeddingModel> models() {
        // a fresh adapter per test: JUnit closes AutoCloseable arguments after each parameterized invocation
        return List.of(kit.track(builder().build()));
    }

    @Override
    protected EmbeddingModel modelWith(EmbeddingModelListener listener) {
        return kit.track(builder().listeners(listener).build());
    }

    /** A closed model: embedding fails with IllegalStateException, which reaches onError. */
    @Override
    protected EmbeddingModel failingModelWith(EmbeddingModelListener listener) {
        LlamaEmbeddingModel model = builder().listeners(listener).build();
        model.close();
        return model;
    }

    @Override
    protected boolean supportsInputTypeParameter() {
        return false;
    }

    @Override
    protected boolean supportsDimensionsParameter() {
        return false;
    }

    @Override
    protected boolean supportsImageInput() {
        return false;
    }
}
