package org.llamajava.springai;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.Embedding;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.embedding.EmbeddingResponseMetadata;

/**
 * A Spring AI {@link EmbeddingModel} over llama-java's {@link Embedder}: the inputs in as few native
 * batches as fit, pooled as the GGUF says and L2-normalized (unless the {@link EmbedderParams} say
 * otherwise). Calls are serialised.
 */
public final class LlamaJavaEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final Model model;
    private final boolean ownsModel;
    private final Embedder embedder;
    private boolean closed;

    private LlamaJavaEmbeddingModel(Model model, boolean ownsModel, EmbedderParams params) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.embedder = Embedder.create(model, params);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The model this adapter runs. */
    public Model model() {
        return model;
    }

    @Override
    public synchronized EmbeddingResponse call(EmbeddingRequest request) {
        check();
        List<String> texts = request.getInstructions();
        int tokens = 0;
        for (String t : texts) {
            tokens += embedder.tokenize(t).length;
        }
        List<float[]> vectors = embedder.embedAll(texts);
        List<Embedding> out = new ArrayList<>(vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
            out.add(new Embedding(vectors.get(i), i));
        }
        return new EmbeddingResponse(out, new EmbeddingResponseMetadata(model.path().getFileName().toString(),
                new DefaultUsage(tokens, 0)));
    }

    @Override
    public synchronized float[] embed(Document document) {
        check();
        return embedder.embed(document.getText());
    }

    @Override
    public int dimensions() {
        return embedder.dimension();
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("this LlamaJavaEmbeddingModel is closed");
        }
    }

    /** Frees the embedder, and the model if this adapter loaded it. Closing twice does nothing. */
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

    /** Builder for {@link LlamaJavaEmbeddingModel}: a model path (loaded and owned) or a loaded model (shared). */
    public static final class Builder {
        private Path modelPath;
        private Model model;
        private int gpuLayers;
        private EmbedderParams params = EmbedderParams.defaults();

        private Builder() {}

        /** A GGUF file to load; the embedding model closes it with itself. */
        public Builder modelPath(Path v) { this.modelPath = v; return this; }
        /** A loaded model to share; left open when the embedding model closes. */
        public Builder model(Model v) { this.model = v; return this; }
        /** Layers to offload to the GPU when loading {@link #modelPath} (0: none, -1: all). */
        public Builder gpuLayers(int v) { this.gpuLayers = v; return this; }
        /** Pooling, normalization, threads, truncation and prefix of the embedder. */
        public Builder params(EmbedderParams v) { this.params = v; return this; }

        /** Loads (or takes) the model and creates the embedder. */
        public LlamaJavaEmbeddingModel build() {
            if ((modelPath == null) == (model == null)) {
                throw new IllegalArgumentException("give the builder either modelPath(...) or model(...)");
            }
            Model m = model != null ? model : Model.load(modelPath, ModelParams.builder().gpuLayers(gpuLayers).build());
            try {
                return new LlamaJavaEmbeddingModel(m, model == null, params);
            } catch (RuntimeException e) {
                if (model == null) {
                    m.close();
                }
                throw e;
            }
        }
    }
}
