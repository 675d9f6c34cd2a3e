package org.llamajava.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.common.AbstractStreamingChatModelListenerIT;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j's listener tests ({@code langchain4j-core:tests}) against {@link LlamaStreamingChatModel}:
 * listeners see the request with the adapter's default parameters (model name, temperature, top-p,
 * max tokens, the tool) and the response with id, usage and finish reason; a failing call (a
 * closed adapter) reaches {@code onError}. The model: the random-weight tool model
 * with Qwen 2.5's template, since the request carries a tool. All of the kit runs.
 *
 * <p>The models pin their seed (42) and leave min-p out: the kit's checks on a random model's
 * replies (lengths, stop sequences) were written against that chain, and llama-java's default seed
 * is random.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamingChatModelListenerKitTest extends AbstractStreamingChatModelListenerIT {
    @TempDir
    static Path tmp;

    private final KitModels kit = new KitModels();

    @AfterAll
    void closeModels() throws Exception {
        kit.close();
    }

    @Override
    protected StreamingChatModel createModel(ChatModelListener listener) {
        return kit.track(LlamaStreamingChatModel.builder().seed(42).minP(0).model(kit.tools(tmp)).chatTemplate(KitModels.qwen(kit.tools(tmp)))
                .contextSize(1024).temperature(temperature()).topP(topP()).maxTokens(maxTokens()).listeners(listener)
                .build());
    }

    @Override
    protected String modelName() {
        return "tool-32k.gguf";
    }

    /** A closed adapter: the call fails with IllegalStateException before generating anything. */
    @Override
    protected StreamingChatModel createFailingModel(ChatModelListener listener) {
        LlamaStreamingChatModel model = LlamaStreamingChatModel.builder().seed(42).minP(0).model(kit.stories()).listeners(listener).build();
        model.close();
        return model;
    }

    @Override
    protected Class<? extends Exception> expectedExceptionClass() {
        return IllegalStateException.class;
    }
}
