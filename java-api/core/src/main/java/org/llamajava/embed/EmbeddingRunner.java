package org.llamajava.embed;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.Model;
import org.llamajava.Pooling;
import org.llamajava.Vocabulary;
import org.llamajava.bindings.llama_model;
import org.llamajava.Sampler;
import org.llamajava.internal.BatchDecoder;

/**
 * The engine under {@link Embedder} and {@link Reranker}: a context that computes embeddings,
 * and the batching that packs many inputs, one sequence id each, into one {@code llama_decode},
 * as llama.cpp's {@code llama-embedding} does.
 */
final class EmbeddingRunner implements AutoCloseable {
    /** Receives one output: a pooled vector ({@code token} -1) or one token's vector. */
    interface Sink {
        void accept(int input, int token, FloatBuffer vector);
    }

    final Model model;
    final Vocabulary vocab;
    final Pooling pooling;
    final int dimension;
    final Truncation truncation;
    final String prefix;
    /** The owning API type's name, for messages. */
    private final String name;
    private final Context context;
    private final BatchDecoder<Sampler> decoder;
    private final int capacity;
    private final int maxSequences;
    /** The thread inside a call, or null. */
    private final AtomicReference<Thread> user = new AtomicReference<>();

    EmbeddingRunner(String name, Model model, EmbedderParams params, Pooling pooling) {
        this.name = name;
        if (model == null || params == null) {
            throw new IllegalArgumentException("model and params are required; e.g. EmbedderParams.defaults()");
        }
        if (model.isVocabOnly()) {
            throw new IllegalStateException("Model " + model.path() + " was loaded vocabOnly; it has no weights to embed with");
        }
        llama_model m = model.port().handle();
        try {
            if (llama_model_has_encoder(m) && llama_model_has_decoder(m)) {
                throw new IllegalArgumentException("embeddings from encoder-decoder models (" + model.architecture()
                        + ") are not supported, as in llama.cpp's llama-embedding");
            }
            this.dimension = pooling == Pooling.RANK ? Math.max(1, llama_model_n_cls_out(m)) : llama_model_n_embd_out(m);
        } finally {
            Reference.reachabilityFence(model);
        }
        this.model = model;
        this.vocab = model.vocabulary();
        this.pooling = pooling;
        this.truncation = params.truncation();
        this.prefix = params.prefix();
        int n = params.contextSize() == 0 ? model.trainingContextLength() : params.contextSize();
        if (n < 1) {
            n = 512;
        }
        // one batch takes a whole context (llama-embedding's "utilize the full context"), and for
        // non-causal models a batch must fit one physical batch: n_ubatch = n_batch = n_ctx
        // llama.cpp sizes its worst-case pooling graph for n tokens split evenly over the sequences,
        // and asserts while creating the context when they do not divide: the largest divisor of
        // n that is at most maxSequences
        int sequences = Math.min(params.maxSequences(), n);
        while (n % sequences != 0) {
            sequences--;
        }
        this.context = model.createContext(ContextParams.builder().contextSize(n).batchSize(n).ubatchSize(n)
                .sequences(sequences).threads(params.threads()).pooling(pooling).build());
        this.decoder = context.port().decoder();
        this.capacity = decoder.capacity();
        this.maxSequences = sequences;
    }

    /** Most tokens of one input. */
    int capacity() {
        return capacity;
    }

    /** An input's tokens as embedded: prefix, special tokens added and parsed, truncated per the policy. */
    int[] tokens(String text, int index) {
        checkOpen();
        if (text == null) {
            throw new IllegalArgumentException("input " + index + " is null");
        }
        return fit(vocab.tokenize(prefix + text, true, true), index);
    }

    /** Applies the truncation policy to an input's tokens. */
    int[] fit(int[] t, int index) {
        if (t.length == 0) {
            throw new IllegalArgumentException("input " + index + " has no tokens (the model adds no special tokens"
                    + " to an empty text): give it some text");
        }
        if (t.length <= capacity) {
            return t;
        }
        if (truncation == Truncation.FAIL) {
            throw new IllegalArgumentException("input " + index + " has " + t.length + " tokens; at most " + capacity
                    + " fit (the context size): shorten it, raise EmbedderParams.contextSize, or use Truncation.END");
        }
        int last = t[t.length - 1];
        int[] kept = Arrays.copyOf(t, capacity);
        if (last == vocab.sep() || last == vocab.eos()) {
            kept[capacity - 1] = last;
        }
        return kept;
    }

    /**
     * Runs the inputs through as few decodes as fit, in order, giving each output to {@code sink}
     * and, after each batch, the number of inputs done to {@code progress} (may be null).
     */
    void run(List<int[]> inputs, Sink sink, ProgressListener progress) {
        enter();
        try {
            int first = 0;
            int s = 0;
            for (int k = 0; k < inputs.size(); k++) {
                int[] in = inputs.get(k);
                if (decoder.rows() + in.length > capacity || s >= maxSequences) {
                    flush(inputs, first, s, sink);
                    if (progress != null) {
                        progress.onProgress(k, inputs.size());
                    }
                    first = k;
                    s = 0;
                }
                for (int i = 0; i < in.length; i++) {
                    decoder.add(s, in[i], i, true);
                }
                s++;
            }
            if (s > 0) {
                flush(inputs, first, s, sink);
                if (progress != null) {
                    progress.onProgress(inputs.size(), inputs.size());
                }
            }
        } finally {
            exit();
        }
    }

    private void flush(List<int[]> inputs, int first, int count, Sink sink) {
        int rows = decoder.rows();
        decoder.clearMemory(); // positions restart at 0 for every sequence of the batch
        int rc = decoder.decode();
        if (rc != 0) {
            throw decoder.failure(rc, rows);
        }
        if (pooling == Pooling.NONE) {
            int row = 0;
            for (int j = 0; j < count; j++) {
                int n = inputs.get(first + j).length;
                for (int t = 0; t < n; t++) {
                    sink.accept(first + j, t, decoder.rowEmbedding(row++, dimension));
                }
            }
        } else {
            for (int j = 0; j < count; j++) {
                sink.accept(first + j, -1, decoder.sequenceEmbedding(j, dimension));
            }
        }
    }

    private void checkOpen() {
        if (context.isClosed()) {
            throw new IllegalStateException(name + (model.isClosed() ? " is closed (its Model was closed)" : " is closed"));
        }
    }

    private void enter() {
        checkOpen();
        Thread t = Thread.currentThread();
        if (!user.compareAndSet(null, t)) {
            Thread other = user.get();
            throw new IllegalStateException(other == t ? name + " is not reentrant: called from inside one of its own calls"
                    : name + " is in use by thread '" + (other == null ? "?" : other.getName())
                    + "'; it is single-threaded: give each thread its own, or wait for that call to finish");
        }
        try {
            context.port().enter(); // closing the model meanwhile is refused instead of freeing the context
        } catch (RuntimeException e) {
            user.set(null);
            throw e;
        }
    }

    private void exit() {
        context.port().exit();
        user.set(null);
    }

    boolean isClosed() {
        return context.isClosed();
    }

    int contextSize() {
        return context.contextSize();
    }

    @Override
    public void close() {
        Thread t = user.get();
        if (t != null) {
            throw new IllegalStateException(t == Thread.currentThread()
                    ? "cannot close the " + name + " from inside one of its own calls"
                    : "cannot close the " + name + " while thread '" + t.getName() + "' is using it");
        }
        context.close();
    }
}
