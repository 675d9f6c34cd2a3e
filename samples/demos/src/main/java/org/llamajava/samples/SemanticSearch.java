package org.llamajava.samples;

import java.nio.file.Path;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.embed.Embedder;

/**
 * Retrieval in a few lines: embed documents, keep their vectors, find the nearest ones to a
 * question.
 *
 * <p>{@code java -cp samples/target/llama-java.jar org.llamajava.samples.SemanticSearch
 * ../shared/models/all-MiniLM-L6-v2-f16.gguf "What do cats like to drink?"}
 */
public final class SemanticSearch {
    static final List<String> DOCUMENTS = List.of(
            "Cats like to drink milk, although most adult cats are lactose intolerant.",
            "The Eiffel Tower is in Paris and was finished in 1889.",
            "Llamas are domesticated South American camelids used as pack animals.",
            "Java is a programming language that runs on the JVM.",
            "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
            "The stock market fell sharply on Tuesday.");

    private SemanticSearch() {}

    public static void main(String[] args) {
        Path path = Path.of(args.length > 0 ? args[0] : "../shared/models/all-MiniLM-L6-v2-f16.gguf");
        String question = args.length > 1 ? args[1] : "What do cats like to drink?";
        try (Model model = Model.load(path); Embedder embedder = Embedder.create(model)) {
            VectorIndex<String> index = new VectorIndex<>();
            List<float[]> vectors = embedder.embedAll(DOCUMENTS);
            for (int i = 0; i < DOCUMENTS.size(); i++) {
                index.add(DOCUMENTS.get(i), vectors.get(i));
            }
            for (VectorIndex.Hit<String> hit : index.search(embedder.embed(question), 3)) {
                System.out.printf("%.3f  %s%n", hit.score(), hit.item());
            }
        }
    }
}
