package org.llamajava.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.llamajava.Model;
import org.llamajava.TestSupport;

/**
 * An independent reference written by others: LangChain4j runs the ONNX weights the shared GGUFs
 * were converted from through ONNX Runtime. Every text's vector points the same way as ours
 * (cosine at least 0.9999) on English, punctuation-heavy, accented and numeric texts.
 */
class EmbeddingOnnxOracleTest {
    static List<Arguments> models() {
        return List.of(
                Arguments.of("all-MiniLM-L6-v2-f16.gguf", (Supplier<EmbeddingModel>) AllMiniLmL6V2EmbeddingModel::new),
                Arguments.of("bge-small-en-v1.5-f16.gguf", (Supplier<EmbeddingModel>) BgeSmallEnV15EmbeddingModel::new));
    }

    static final List<String> TEXTS = List.of(
            "Hello world",
            "The quick brown fox jumps over the lazy dog.",
            "¿Dónde está la biblioteca? Café, naïve, résumé, Zürich.",
            "Crème brûlée, smørrebrød and jalapeño: señor Müller's piñata.",
            "Call 555-0123 or 1-800-FLOWERS; pay $42.50 (about 39.99 EUR) by 2026-11-29.",
            "3.14159 2.71828 1.41421 42 1e-9 0xFF 1,000,000",
            "!!! ??? ... ;;; --- *** ((( ))) [[[ ]]]",
            "Wait... what?! No -- really? (Yes; really.)",
            "Retrieval augmented generation embeds documents, stores their vectors, and for each question finds"
                    + " the nearest ones, so that a small local model answers from facts instead of from memory.");

    @ParameterizedTest
    @MethodSource("models")
    void everyVectorPointsWhereOnnxRuntimesDoes(String name, Supplier<EmbeddingModel> onnx) {
        Path file = TestSupport.sharedModel(name);
        EmbeddingModel reference = onnx.get();
        List<float[]> expected = reference.embedAll(TEXTS.stream().map(TextSegment::from).toList()).content().stream()
                .map(e -> e.vector()).toList();
        try (Model model = Model.load(file); Embedder embedder = Embedder.create(model)) {
            assertEquals(reference.dimension(), embedder.dimension());
            List<float[]> actual = embedder.embedAll(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                float cos = Similarity.cosine(expected.get(i), actual.get(i));
                assertTrue(cos >= 0.9999f, name + ": cosine " + cos + " with ONNX Runtime for '" + TEXTS.get(i) + "'");
            }
        }
    }
}
