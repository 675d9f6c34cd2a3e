import java.nio.file.Path;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;

/**
 * What docs/observability.md shows of llama-java's JFR events (run by ci/jfr-sample.sh under
 * -XX:StartFlightRecording): a model load, a context, a Sequence generation, and two engine
 * requests sharing a prefix with the prompt cache saving and restoring a slot.
 */
public class JfrSample {
    public static void main(String[] args) {
        try (Model model = Model.load(Path.of(args[0]))) {
            int[] a = model.vocabulary().tokenize("Once upon a time there was a little girl", true, true);
            int[] b = model.vocabulary().tokenize("The dog ran to the park", true, true);
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build());
                 Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                System.out.println("sequence: " + seq.generate(a, greedy, GenerateOptions.maxTokens(8)));
            }
            try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(256).threads(1).build())) {
                for (int[] p : new int[][] {a, b, a}) {
                    System.out.println("engine: " + e.submit(new BatchRequest(p, Sampler.builder().greedy(),
                            GenerateOptions.maxTokens(8))).completion().join());
                }
                System.out.println(e.stats());
            }
        }
    }
}
