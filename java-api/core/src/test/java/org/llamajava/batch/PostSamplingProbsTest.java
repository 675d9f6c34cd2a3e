package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.GeneratedToken;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.TokenProbability;

/**
 * {@link GenerateOptions#postSamplingProbs()} (llama-server's {@code post_sampling_probs}): with
 * top-k 3 and temperature 1 the chain leaves the 3 most likely tokens, whose probabilities are
 * the raw ones renormalized over those 3; the text is the same as without it (the same draws), in
 * the batching engine and in a Sequence.
 */
class PostSamplingProbsTest {
    @TempDir
    Path tmp;

    private Path model() {
        Path shared = Path.of(System.getProperty("llama.models.dir", "../shared/models"), "stories260K.gguf");
        return Files.isRegularFile(shared) ? shared : TestSupport.writeTinyModel(tmp);
    }

    private static Sampler.Builder sampling() {
        return Sampler.builder().topK(3).temperature(1f).seed(1234);
    }

    private static GenerateOptions options(List<GeneratedToken> tokens, boolean post) {
        return GenerateOptions.builder().maxTokens(16).logprobs(5).onToken(tokens::add).postSamplingProbs(post).build();
    }

    private static void check(List<GeneratedToken> raw, Completion rawDone, List<GeneratedToken> post, Completion postDone) {
        assertArrayEquals(rawDone.tokens(), postDone.tokens(), "the same draws");
        assertEquals(raw.size(), post.size());
        for (int t = 0; t < raw.size(); t++) {
            List<TokenProbability> top = raw.get(t).alternatives().subList(0, 3);
            double sum = top.stream().mapToDouble(a -> Math.exp(a.logprob())).sum();
            List<TokenProbability> left = post.get(t).alternatives();
            assertEquals(3, left.size(), "top-k 3 leaves 3 candidates, not the 5 asked for (step " + t + ")");
            double chosen = Double.NaN;
            for (int i = 0; i < 3; i++) {
                assertEquals(top.get(i).token(), left.get(i).token(), "step " + t);
                double p = Math.exp(top.get(i).logprob()) / sum;
                assertEquals(p, Math.exp(left.get(i).logprob()), 1e-4, "step " + t + ", candidate " + i);
                if (top.get(i).token() == post.get(t).token()) {
                    chosen = p;
                }
            }
            assertTrue(!Double.isNaN(chosen), "the sampled token is one of the 3");
            assertEquals(chosen, Math.exp(post.get(t).logprob()), 1e-4, "the sampled token's probability, step " + t);
        }
    }

    @Test
    void theProbabilitiesAreWhatTheSamplerChainLeft() throws Exception {
        try (Model model = Model.load(model())) {
            int[] prompt = model.vocabulary().tokenize("Once upon a time", true, true);
            try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(256)
                    .threads(2).build())) {
                List<GeneratedToken> raw = new ArrayList<>();
                Completion rawDone = engine.submit(new BatchRequest(prompt, sampling(), options(raw, false)))
                        .completion().get(60, TimeUnit.SECONDS);
                assertEquals(5, raw.get(0).alternatives().size(), "without it: the raw logits' 5 most likely");
                List<GeneratedToken> post = new ArrayList<>();
                Completion postDone = engine.submit(new BatchRequest(prompt, sampling(), options(post, true)))
                        .completion().get(60, TimeUnit.SECONDS);
                check(raw, rawDone, post, postDone);
            }
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(2).build())) {
                List<GeneratedToken> raw = new ArrayList<>();
                Completion rawDone;
                try (Sampler s = sampling().build(model); org.llamajava.Sequence q = ctx.newSequence()) {
                    rawDone = q.generate(prompt, s, options(raw, false));
                }
                List<GeneratedToken> post = new ArrayList<>();
                Completion postDone;
                try (Sampler s = sampling().build(model); org.llamajava.Sequence q = ctx.newSequence()) {
                    postDone = q.generate(prompt, s, options(post, true));
                }
                check(raw, rawDone, post, postDone);
            }
        }
    }
}
