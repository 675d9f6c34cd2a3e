package org.llamajava.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.scoring.ScoringModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.Reranker;

/**
 * A LangChain4j {@link ScoringModel} over llama-java's {@link Reranker}: one relevance score per
 * segment, in the segments' order. The model must be a reranker (rank pooling). Calls are
 * serialised.
 */
public final class LlamaScoringModel implements ScoringModel, AutoCloseable {
    private final Model model;
    private final boolean ownsModel;
    private final Reranker reranker;

    private LlamaScoringModel(Model model, boolean ownsModel, EmbedderParams params) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.reranker = Reranker.create(model, params);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public synchronized Response<List<Double>> scoreAll(List<TextSegment> segments, String query) {
        List<String> docs = new ArrayList<>(segments.size());
        for (TextSegment s : segments) {
            docs.add(s.text());
        }
        float[] scores = reranker.score(query, docs);
        List<Double> out = new ArrayList<>(scores.length);
        for (float f : scores) {
            out.add((double) f);
        }
        return Response.from(out);
    }

    /** Frees the reranker, and the model if the adapter loaded it. */
    @Override
    public synchronized void close() {
        reranker.close();
        if (ownsModel) {
            model.close();
        }
    }

    /** Builder for {@link LlamaScoringModel}: a model path (owned) or a loaded model (shared). */
    public static final class Builder {
        private Path modelPath;
        private Model model;
        private EmbedderParams params = EmbedderParams.defaults();

        private Builder() {}

        public Builder modelPath(Path v) { this.modelPath = v; return this; }
        public Builder model(Model v) { this.model = v; return this; }
        public Builder params(EmbedderParams v) { this.params = v; return this; }

        public LlamaScoringModel build() {
            return ModelSource.open(modelPath, model, m -> new LlamaScoringModel(m, model == null, params));
        }
    }
}
