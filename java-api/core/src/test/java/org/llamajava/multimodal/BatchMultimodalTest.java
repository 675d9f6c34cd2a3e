package org.llamajava.multimodal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextOverflowException;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchHandle;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;

/**
 * Images through the batching engine: the same greedy text as a sequence of its own gives
 * (which ProjectorOracleTest checks against llama-mtmd-cli), alongside a text request, and a
 * slot that holds the image reuses it.
 */
class BatchMultimodalTest {
    @TempDir
    static Path tmp;

    @Test
    void anImageRequestBesideATextRequest() throws Exception {
        String prompt = ProjectorOracleTest.chatml(Projector.marker() + "Describe this.");
        List<Media> image = List.of(Media.bytes(VisionModels.image("png")));
        try (Model model = Model.load(VisionModels.textModel(tmp));
             Projector projector = Projector.load(VisionModels.projector(tmp), model,
                     ProjectorParams.defaults().withGpu(false).withThreads(2).withWarmup(false))) {
            Completion expected;
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
                 Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                expected = projector.generate(seq, prompt, image, greedy, GenerateOptions.maxTokens(12));
            }
            int[] textPrompt = model.vocabulary().tokenize("Once upon a time", true, true);
            Completion expectedText;
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
                 Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                expectedText = seq.generate(textPrompt, greedy, GenerateOptions.maxTokens(12));
            }
            try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(1024)
                    .batchSize(32).threads(2).build())) {
                BatchHandle a = projector.submit(engine, prompt, image, null, GenerateOptions.maxTokens(12));
                BatchHandle b = engine.submit(BatchRequest.of(textPrompt, GenerateOptions.maxTokens(12)));
                Completion ca = a.completion().get();
                Completion cb = b.completion().get();
                assertEquals(expected.text(), ca.text());
                assertEquals(64, ca.mediaTokens());
                assertEquals(expectedText.text(), cb.text());
                assertEquals(0, cb.mediaTokens());

                Completion again = projector.submit(engine, prompt, image, null, GenerateOptions.maxTokens(12))
                        .completion().get();
                assertEquals(expected.text(), again.text());
                assertTrue(again.cachedTokens() > 64, "the image was not reused: cached " + again.cachedTokens());

                Projector large = Projector.load(VisionModels.projector(tmp, 336, VisionModels.textEmbedding()), model,
                        ProjectorParams.defaults().withGpu(false).withThreads(2).withWarmup(false));
                try (large) {
                    assertThrows(ContextOverflowException.class,
                            () -> large.submit(engine, prompt, image, null, GenerateOptions.maxTokens(4)));
                }
            }
        }
    }
}
