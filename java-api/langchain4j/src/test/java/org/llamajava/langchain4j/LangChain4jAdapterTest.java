package org.llamajava.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonIntegerSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.request.json.JsonStringSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.RerankModels;
import org.llamajava.embed.Reranker;

/**
 * The LangChain4j adapters against llama-java's own API (the oracle for what they wrap): greedy
 * chat equals a ChatSession's reply, streaming equals blocking, embeddings equal the Embedder's,
 * scores keep the documents' order and equal the Reranker's, token counts are the tokenizer's;
 * JSON-schema output comes back parsed.
 */
class LangChain4jAdapterTest {
    @TempDir
    Path tmp;

    private static final List<dev.langchain4j.data.message.ChatMessage> MESSAGES = List.of(
            SystemMessage.from("You tell stories."), UserMessage.from("Once upon a time"));

    private static ChatRequest greedy(List<dev.langchain4j.data.message.ChatMessage> messages) {
        return ChatRequest.builder().messages(messages)
                .parameters(ChatRequestParameters.builder().temperature(0.0).maxOutputTokens(24).build()).build();
    }

    @Test
    void greedyChatEqualsAChatSessionAndStreamingEqualsBlocking() {
        Path file = TestSupport.sharedModel("stories260K.gguf");
        try (Model model = Model.load(file)) {
            String expected;
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(4096).build())) {
                ChatSession s = new ChatSession(ctx.newSequence(), ChatTemplate.of(model), "You tell stories.");
                expected = s.send("Once upon a time", Sampler.builder().greedy(), GenerateOptions.maxTokens(24), null)
                        .message().content();
            }
            // no chat template in stories260K: llama.cpp's chat API falls back to chatml
            try (LlamaChatModel chat = LlamaChatModel.builder().model(model).build();
                 LlamaStreamingChatModel streaming = LlamaStreamingChatModel.builder().model(model).build()) {
                ChatResponse r = chat.chat(greedy(MESSAGES));
                assertEquals(expected, r.aiMessage().text());
                assertTrue(r.tokenUsage().inputTokenCount() > 5 && r.tokenUsage().outputTokenCount() > 0, "usage");
                assertTrue(r.finishReason() == FinishReason.LENGTH || r.finishReason() == FinishReason.STOP);
                ChatResponse again = chat.chat(greedy(MESSAGES));
                assertEquals(expected, again.aiMessage().text(), "the same request again, from the kept cache");

                StringBuilder partial = new StringBuilder();
                AtomicReference<ChatResponse> done = new AtomicReference<>();
                streaming.chat(greedy(MESSAGES), new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String s) {
                        partial.append(s);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.set(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        throw new AssertionError(error);
                    }
                });
                assertEquals(expected, partial.toString(), "streamed pieces");
                assertEquals(expected, done.get().aiMessage().text(), "the complete streamed response");
            }
            assertFalse(model.isClosed(), "a shared model stays open");
        }
    }

    record Person(String name, long age) {}

    @Test
    void aJsonSchemaResponseFormatParsesIntoTheRecord() throws Exception {
        Path file = TestSupport.sharedModel("llama-2-tiny-random.gguf");
        try (LlamaChatModel chat = LlamaChatModel.builder().modelPath(file).temperature(1.0).minP(0).seed(7).build()) {
            // an enum keeps a random model's string short enough to finish within the token budget
            JsonObjectSchema person = JsonObjectSchema.builder().addProperty("name",
                            JsonEnumSchema.builder().enumValues("Ann", "Bob", "Eve").build())
                    .addProperty("age", new JsonIntegerSchema()).required("name", "age").additionalProperties(false)
                    .build();
            ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from("A person as JSON"))
                    .parameters(ChatRequestParameters.builder().maxOutputTokens(200).responseFormat(ResponseFormat
                            .builder().type(ResponseFormatType.JSON).jsonSchema(JsonSchema.builder().name("person")
                                    .rootElement(person).build()).build()).build()).build());
            Person p = new ObjectMapper().readValue(r.aiMessage().text(), Person.class);
            assertTrue(List.of("Ann", "Bob", "Eve").contains(p.name()), r.aiMessage().text());

        }
    }

    @Test
    void embeddingsScoresAndTokenCountsEqualTheCoreApis() {
        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        List<String> texts = List.of("The cat sat on the mat.", "Llamas carry loads.", "Java runs on the JVM.");
        try (Model model = Model.load(minilm);
             Embedder embedder = Embedder.create(model);
             LlamaEmbeddingModel lc = LlamaEmbeddingModel.builder().model(model).build()) {
            List<float[]> expected = embedder.embedAll(texts);
            List<Embedding> got = lc.embedAll(texts.stream().map(TextSegment::from).toList()).content();
            assertEquals(384, lc.dimension());
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i).vector(), 1e-6f, "embedding " + i);
            }
            LlamaTokenCountEstimator counter = new LlamaTokenCountEstimator(model, ChatTemplate.builtin("chatml"));
            assertEquals(model.vocabulary().tokenize(texts.get(0), false, false).length,
                    counter.estimateTokenCountInText(texts.get(0)));
            String rendered = ChatTemplate.builtin("chatml").render(List.of(ChatMessage.user("hi")), false);
            assertEquals(model.vocabulary().tokenize(rendered, false, true).length,
                    counter.estimateTokenCountInMessage(UserMessage.from("hi")));
        }
        Path rank = RerankModels.write(minilm, tmp.resolve("rank.gguf"), 9, null);
        List<String> docs = List.of("Llamas eat grass.", "Stocks fell.", "A llama grazes on hay.");
        try (Model model = Model.load(rank);
             Reranker reranker = Reranker.create(model);
             LlamaScoringModel scoring = LlamaScoringModel.builder().model(model).build()) {
            float[] expected = reranker.score("what do llamas eat?", docs);
            List<Double> got = scoring.scoreAll(docs.stream().map(TextSegment::from).toList(), "what do llamas eat?")
                    .content();
            for (int i = 0; i < docs.size(); i++) {
                assertEquals(expected[i], got.get(i), 1e-5, "score of document " + i + ", in the documents' order");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> LlamaChatModel.builder().build(), "no model given");
    }
}
