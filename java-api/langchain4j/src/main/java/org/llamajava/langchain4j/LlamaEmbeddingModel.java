package org.llamajava.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.listener.EmbeddingModelListener;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;

/**
 * A LangChain4j {@link EmbeddingModel} over llama-java's {@link Embedder}: all segments in as few
 * native batches as fit, pooled as the model's GGUF says and L2-normalized (unless the
 * {@link EmbedderParams} say otherwise). Calls are serialised.
 */
public final class LlamaEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final Model model;
    private final boolean ownsModel;
    private final Embedder embedder;
    private final List<EmbeddingModelListener> listeners;
    private boolean closed;

    private LlamaEmbeddingModel(Model model, boolean ownsModel, EmbedderParams params,
                                List<EmbeddingModelListener> listeners) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.listeners = List.copyOf(listeners);
        this.embedder = Embedder.create(model, params);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public synchronized Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        if (closed) {
            throw new IllegalStateException("this LlamaEmbeddingModel is closed");
        }
        List<String> texts = new ArrayList<>(segments.size());
        int tokens = 0;
        for (TextSegment s : segments) {
            texts.add(s.text());
            tokens += embedder.tokenize(s.text()).length;
        }
        List<float[]> vectors = embedder.embedAll(texts);
        List<Embedding> out = new ArrayList<>(vectors.size());
        for (float[] v : vectors) {
            out.add(Embedding.from(v));
        }
        return Response.from(out, new TokenUsage(tokens, 0));
    }

    @Override
    public List<EmbeddingModelListener> listeners() {
        return listeners;
    }

    @Override
    public int dimension() {
        return embedder.dimension();
    }

    @Override
    public String modelName() {
        return model.path().getFileName().toString();
    }

    /** Frees the embedder, and the model if the adapter loaded it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        embedder.close();
        if (ownsModel) {
            model.close();
        }
    }

    /** Builder for {@link LlamaEmbeddingModel}: a model path (owned) or a loaded model (shared). */
    public static final class Builder {
        private Path modelPath;
        private Model model;
        private EmbedderParams params = EmbedderParams.defaults();
        private final List<EmbeddingModelListener> listeners = new ArrayList<>();

        private Builder() {}

        public Builder modelPath(Path v) { this.modelPath = v; return this; }
        public Builder model(Model v) { this.model = v; return this; }
        public Builder params(EmbedderParams v) { this.params = v; return this; }
        /** Listeners LangChain4j calls around each {@code embed(EmbeddingRequest)}. */
        public Builder listeners(EmbeddingModelListener... v) { this.listeners.addAll(List.of(v)); return this; }

        public LlamaEmbeddingModel build() {
            return ModelSource.open(modelPath, model, m -> new LlamaEmbeddingModel(m, model == null, params, listeners));
        }
    }
}
