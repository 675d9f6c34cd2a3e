package org.llamajava.samples.frameworks;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.splitter.DocumentSplitters;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.llamajava.langchain4j.LlamaChatModel;
import org.llamajava.langchain4j.LlamaEmbeddingModel;

/**
 * Retrieval-augmented generation with LangChain4j, in process: a few documents are chunked,
 * embedded with all-MiniLM-L6-v2 through {@link LlamaEmbeddingModel}, stored in LangChain4j's
 * {@link InMemoryEmbeddingStore}, the chunks nearest the question are retrieved and put into the
 * prompt of {@link LlamaChatModel}.
 *
 * <pre>
 * java -cp ... org.llamajava.samples.frameworks.RagSample [EMBEDDING.gguf] [CHAT.gguf] [QUESTION]
 * </pre>
 *
 * <p>Retrieval is real (a real sentence-embedding model); the answer comes from stories260K, a
 * tiny story model, so it will not use the context. With a real instruction-tuned chat model (for
 * example a Qwen 2.5 or Llama 3.2 Instruct GGUF) the answer is grounded in the retrieved chunks.
 */
public final class RagSample {
    /** The documents: one topic each, several sentences, so that chunking matters. */
    static final List<Document> DOCUMENTS = List.of(
            Document.from("Llamas are domesticated South American camelids. In the Andes, llamas carry loads of "
                    + "25 to 30 percent of their body weight over long distances. Herders value them as pack animals.",
                    dev.langchain4j.data.document.Metadata.from("topic", "llamas")),
            Document.from("The Java virtual machine runs bytecode compiled from Java and other languages. Its "
                    + "just-in-time compiler turns hot methods into machine code while the program runs.",
                    dev.langchain4j.data.document.Metadata.from("topic", "jvm")),
            Document.from("Sourdough bread rises with a starter of wild yeast and lactic acid bacteria. A long, cool "
                    + "fermentation gives the crumb its open structure and its slightly sour taste.",
                    dev.langchain4j.data.document.Metadata.from("topic", "bread")),
            Document.from("Coral reefs grow in warm, shallow seas. The corals host algae that feed them through "
                    + "photosynthesis; when the water is too warm, the corals expel the algae and bleach.",
                    dev.langchain4j.data.document.Metadata.from("topic", "reefs")));

    private RagSample() {}

    public static void main(String[] args) {
        Path embeddingModel = Path.of(args.length > 0 ? args[0] : "../shared/models/all-MiniLM-L6-v2-f16.gguf");
        Path chatModel = Path.of(args.length > 1 ? args[1] : "../shared/models/stories260K.gguf");
        String question = args.length > 2 ? args[2] : "Which animal carries loads in the Andes?";

        try (LlamaEmbeddingModel embedder = LlamaEmbeddingModel.builder().modelPath(embeddingModel).build();
             LlamaChatModel chat = LlamaChatModel.builder().modelPath(chatModel).temperature(0).maxTokens(48).build()) {
            // chunk: at most 120 characters per segment, no overlap
            List<TextSegment> chunks = new ArrayList<>();
            for (Document d : DOCUMENTS) {
                chunks.addAll(DocumentSplitters.recursive(120, 0).split(d));
            }
            InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
            List<Embedding> vectors = embedder.embedAll(chunks).content();
            store.addAll(vectors, chunks);
            System.out.println("chunks: " + chunks.size());

            Embedding q = embedder.embed(question).content();
            List<EmbeddingMatch<TextSegment>> matches = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(q).maxResults(3).build()).matches();
            System.out.println("retrieved:");
            for (EmbeddingMatch<TextSegment> m : matches) {
                System.out.printf("  %.3f [%s] %s%n", m.score(), m.embedded().metadata().getString("topic"),
                        m.embedded().text());
            }

            String context = matches.stream().map(m -> "- " + m.embedded().text()).collect(Collectors.joining("\n"));
            String system = "Answer the question using only this context:\n" + context;
            System.out.println("prompt:");
            System.out.println(system);
            System.out.println("question: " + question);
            String answer = chat.chat(ChatRequest.builder().messages(SystemMessage.from(system), UserMessage.from(question))
                    .parameters(ChatRequestParameters.builder().build()).build()).aiMessage().text();
            System.out.println("answer: " + answer.strip());
        }
    }
}
