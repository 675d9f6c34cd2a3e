package org.llamajava.embed;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.Pooling;

/**
 * Turns texts into vectors with an embedding model (or any model, by its last token): one
 * {@code float[]} per text, many texts per native decode.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("all-MiniLM-L6-v2-f16.gguf"));
 *      Embedder embedder = Embedder.create(model)) {
 *     List<float[]> vectors = embedder.embedAll(List.of("The cat sat.", "A dog barked."));
 *     float similarity = Similarity.cosine(vectors.get(0), vectors.get(1));
 * }
 * }</pre>
 *
 * <p>Nothing needs enabling: the embedder makes its own context with embeddings on and the
 * pooling the model's GGUF names ({@link EmbedderParams#pooling()} overrides it; a generative
 * model, whose GGUF names none, is pooled by its last token). Inputs are tokenized with the
 * model's special tokens, as {@code llama-embedding} does, and packed into batches of up to
 * {@link #contextSize()} tokens and {@link EmbedderParams#maxSequences()} inputs; batching does
 * not change the vectors. Vectors are L2-normalized unless {@link EmbedderParams#normalization()}
 * says otherwise.
 *
 * <p>An Embedder is single-threaded (a second thread gets {@link IllegalStateException}); create
 * one per thread over a shared {@link Model}. Close it to free its context; closing the model
 * closes it too.
 */
public final class Embedder implements AutoCloseable {
    private final EmbeddingRunner runner;
    private final Normalization normalization;

    private Embedder(EmbeddingRunner runner, Normalization normalization) {
        this.runner = runner;
        this.normalization = normalization;
    }

    /** An embedder with {@link EmbedderParams#defaults()}. */
    public static Embedder create(Model model) {
        return create(model, EmbedderParams.defaults());
    }

    /**
     * An embedder over {@code model}.
     *
     * @throws IllegalStateException if the model was loaded vocab-only
     * @throws IllegalArgumentException for an encoder-decoder model
     */
    public static Embedder create(Model model, EmbedderParams params) {
        if (model == null || params == null) {
            throw new IllegalArgumentException("model and params are required; e.g. EmbedderParams.defaults()");
        }
        Pooling pooling = params.pooling();
        if (pooling == Pooling.MODEL) {
            pooling = declaredPooling(model);
        }
        return new Embedder(new EmbeddingRunner("Embedder", model, params, pooling), params.normalization());
    }

    /** The pooling the model's GGUF names, or {@link Pooling#LAST} if it names none (a generative model). */
    static Pooling declaredPooling(Model model) {
        String v = model.metadata(model.architecture() + ".pooling_type");
        if (v == null) {
            return Pooling.LAST;
        }
        try {
            Pooling p = Pooling.of(Integer.parseInt(v.strip()));
            return p == Pooling.MODEL ? Pooling.LAST : p;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(model.architecture() + ".pooling_type is '" + v + "' in " + model.path()
                    + "; choose a pooling with EmbedderParams.pooling", e);
        }
    }

    /** The model. */
    public Model model() {
        return runner.model;
    }

    /** The pooling in use (never {@link Pooling#MODEL}: the model's choice, resolved). */
    public Pooling pooling() {
        return runner.pooling;
    }

    /** The normalization applied to every vector. */
    public Normalization normalization() {
        return normalization;
    }

    /** The length of every vector (the model's output embedding size). */
    public int dimension() {
        return runner.dimension;
    }

    /** Most tokens of one input, and of one batch. */
    public int contextSize() {
        return runner.capacity();
    }

    /** The tokens an input is embedded as (prefix and special tokens included, truncation applied). */
    public int[] tokenize(String text) {
        return runner.tokens(text, 0);
    }

    /**
     * One text's vector.
     *
     * @throws IllegalStateException if the pooling is {@link Pooling#NONE} (use {@link #embedTokens})
     * @throws IllegalArgumentException if the text is too long for {@link Truncation#FAIL}, or has no tokens
     */
    public float[] embed(String text) {
        return embedAll(List.of(text == null ? nullText() : text)).get(0);
    }

    /**
     * Every text's vector, in order, computed in as few native batches as fit.
     *
     * @throws IllegalStateException if the pooling is {@link Pooling#NONE} (use {@link #embedTokens})
     * @throws IllegalArgumentException naming the first input that is null, has no tokens, or is too
     *     long for {@link Truncation#FAIL}; nothing is computed then
     */
    public List<float[]> embedAll(List<String> texts) {
        return embedAll(texts, null);
    }

    /**
     * Like {@link #embedAll(List)}, telling {@code progress} after each native batch how many
     * texts are done (on this thread; it must not call this Embedder).
     */
    public List<float[]> embedAll(List<String> texts, ProgressListener progress) {
        if (runner.pooling == Pooling.NONE) {
            throw new IllegalStateException("this Embedder pools nothing (Pooling.NONE): use embedTokens for one vector"
                    + " per token, or create it with another pooling");
        }
        List<int[]> inputs = tokenizeAll(texts);
        float[][] out = new float[inputs.size()][];
        runner.run(inputs, (input, token, vector) -> out[input] = normalize(vector, runner.dimension, normalization),
                progress);
        return Collections.unmodifiableList(Arrays.asList(out));
    }

    /**
     * The vectors of inputs given as token ids (as llama-server's {@code /embeddings} takes
     * them), in order, embedded as they are: no prefix, special tokens or truncation added.
     *
     * @throws IllegalStateException if the pooling is {@link Pooling#NONE}
     * @throws IllegalArgumentException naming the first input that is null, empty, longer than
     *     {@link #contextSize()} or holds a token outside the vocabulary; nothing is computed then
     */
    public List<float[]> embedAllTokens(List<int[]> inputs) {
        return embedAllTokens(inputs, null);
    }

    /**
     * Like {@link #embedAllTokens(List)}, telling {@code progress} after each native batch how many
     * inputs are done (on this thread; it must not call this Embedder).
     */
    public List<float[]> embedAllTokens(List<int[]> inputs, ProgressListener progress) {
        if (runner.pooling == Pooling.NONE) {
            throw new IllegalStateException("this Embedder pools nothing (Pooling.NONE): create it with another pooling");
        }
        if (inputs == null) {
            throw new IllegalArgumentException("inputs is null");
        }
        List<int[]> copies = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            int[] t = inputs.get(i);
            if (t == null || t.length == 0) {
                throw new IllegalArgumentException("input " + i + " has no tokens");
            }
            if (t.length > runner.capacity()) {
                throw new IllegalArgumentException("input " + i + " has " + t.length + " tokens; this Embedder takes at"
                        + " most " + runner.capacity() + " (its context size)");
            }
            runner.model.vocabulary().checkTokens(t);
            copies.add(t.clone());
        }
        float[][] out = new float[copies.size()][];
        runner.run(copies, (input, token, vector) -> out[input] = normalize(vector, runner.dimension, normalization),
                progress);
        return Collections.unmodifiableList(Arrays.asList(out));
    }

    /**
     * One vector per token of the text (normalized each), for an Embedder created with
     * {@link Pooling#NONE}.
     */
    public List<float[]> embedTokens(String text) {
        if (runner.pooling != Pooling.NONE) {
            throw new IllegalStateException("token embeddings need an Embedder created with Pooling.NONE; this one"
                    + " pools by " + runner.pooling);
        }
        int[] tokens = runner.tokens(text, 0);
        List<float[]> out = new ArrayList<>(tokens.length);
        runner.run(List.of(tokens), (input, token, vector) -> out.add(normalize(vector, runner.dimension, normalization)), null);
        return Collections.unmodifiableList(out);
    }

    /**
     * One vector per token of an input given as token ids (as llama-server's {@code /embeddings}
     * takes them, embedded as they are), for an Embedder created with {@link Pooling#NONE}
     * (normalized each, as {@link #embedTokens(String)}).
     *
     * @throws IllegalArgumentException for no tokens, more than {@link #contextSize()}, or a token
     *     outside the vocabulary
     */
    public List<float[]> embedTokens(int[] tokens) {
        if (runner.pooling != Pooling.NONE) {
            throw new IllegalStateException("token embeddings need an Embedder created with Pooling.NONE; this one"
                    + " pools by " + runner.pooling);
        }
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException("the input has no tokens");
        }
        if (tokens.length > runner.capacity()) {
            throw new IllegalArgumentException("the input has " + tokens.length + " tokens; this Embedder takes at most "
                    + runner.capacity() + " (its context size)");
        }
        runner.model.vocabulary().checkTokens(tokens);
        List<float[]> out = new ArrayList<>(tokens.length);
        runner.run(List.of(tokens.clone()), (input, token, vector) -> out.add(normalize(vector, runner.dimension,
                normalization)), null);
        return Collections.unmodifiableList(out);
    }

    private List<int[]> tokenizeAll(List<String> texts) {
        if (texts == null) {
            throw new IllegalArgumentException("texts is null");
        }
        List<int[]> inputs = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            inputs.add(runner.tokens(texts.get(i), i));
        }
        return inputs;
    }

    private static String nullText() {
        throw new IllegalArgumentException("text is null");
    }

    /** Whether {@link #close()} was called (or the model closed). */
    public boolean isClosed() {
        return runner.isClosed();
    }

    /** Frees the embedder's context; idempotent. */
    @Override
    public void close() {
        runner.close();
    }

    /** A normalized copy of a vector read in place. */
    static float[] normalize(FloatBuffer in, int n, Normalization norm) {
        float[] v = new float[n];
        norm.apply(in, v);
        return v;
    }
}
