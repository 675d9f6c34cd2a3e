package org.llamajava.multimodal;

import static org.llamajava.bindings.global.mtmd.*;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.llamajava.Completion;
import org.llamajava.GenerateOptions;
import org.llamajava.Llama;
import org.llamajava.LlamaException;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.bindings.llama_context;
import org.llamajava.bindings.mtmd.mtmd_bitmap;
import org.llamajava.bindings.mtmd.mtmd_context;
import org.llamajava.bindings.mtmd.mtmd_context_params;
import org.llamajava.bindings.mtmd.mtmd_input_chunk;
import org.llamajava.bindings.mtmd.mtmd_input_chunks;
import org.llamajava.bindings.mtmd.mtmd_input_text;
import org.llamajava.gguf.GgufFile;
import org.llamajava.internal.NativeLog;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.NativeState;
import org.llamajava.internal.PromptSegment;

/**
 * A multimodal projector ({@code mmproj} GGUF file) loaded for a text {@link Model}: it turns
 * images (and audio, for projectors with an audio encoder) into embeddings the model reads in
 * place of tokens, through llama.cpp's mtmd library.
 *
 * <p>A prompt is text with {@link #marker()} where each {@link Media} goes (in order);
 * {@link #generate} evaluates it into a {@link Sequence} (text as tokens, each media as its chunk
 * of embeddings) and generates. A sequence keeps what it holds: the next prompt that starts with
 * the same text and the same images evaluates only what follows. {@link
 * org.llamajava.chat.ChatSession#setProjector} does this for chats.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("model.gguf"));
 *      Projector projector = Projector.load(Path.of("mmproj.gguf"), model);
 *      Context ctx = model.createContext(ContextParams.builder().contextSize(4096).build());
 *      Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
 *     Completion c = projector.generate(seq, Projector.marker() + "Describe the image.",
 *             List.of(Media.file(Path.of("cat.jpg"))), greedy, GenerateOptions.maxTokens(64));
 * }
 * }</pre>
 *
 * <p>Closing the model closes its projectors first (refused while another thread is using one).
 * A Projector is used by one thread at a time (other threads wait). Models whose text decoder needs M-RoPE positions (Qwen2-VL
 * family) are refused at load.
 */
public final class Projector implements AutoCloseable {
    /** A path no ffmpeg can be in: mtmd's helper then never starts ffmpeg (no video support). */
    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final Model model;
    private final Path path;
    private final boolean vision;
    private final boolean audio;

    private Projector(State state, Model model, Path path) {
        this.state = state;
        this.model = model;
        this.path = path;
        this.cleanable = state.register(this);
        this.vision = mtmd_support_vision(state.ctx);
        this.audio = mtmd_support_audio(state.ctx);
    }

    /** Loads a projector with {@link ProjectorParams#defaults()}. */
    public static Projector load(Path mmproj, Model model) {
        return load(mmproj, model, ProjectorParams.defaults());
    }

    /**
     * Loads a projector for {@code model}.
     *
     * @throws LlamaException if the file is not a readable projector GGUF, if its output
     *     embedding size is not the model's (a projector made for another model), or if mtmd
     *     cannot load it
     * @throws UnsupportedOperationException for a model whose decoder needs M-RoPE positions
     */
    public static Projector load(Path mmproj, Model model, ProjectorParams params) {
        if (mmproj == null || model == null || params == null) {
            throw new IllegalArgumentException("mmproj, model and params are required");
        }
        model.port().handle(); // open?
        GgufFile gguf;
        try {
            gguf = GgufFile.read(mmproj);
        } catch (org.llamajava.gguf.GgufException e) {
            throw new LlamaException(e.getMessage(), e);
        }
        if (!"clip".equals(gguf.architecture())) {
            throw new LlamaException(mmproj + " is not a multimodal projector (mmproj) file: its general.architecture is "
                    + gguf.architecture() + ", not clip; pass the model as the model and its mmproj file as the projector");
        }
        if (!Boolean.TRUE.equals(gguf.metadata().get("clip.has_vision_encoder"))
                && !Boolean.TRUE.equals(gguf.metadata().get("clip.has_audio_encoder"))) {
            throw new LlamaException("projector " + mmproj + " has neither a vision nor an audio encoder"
                    + " (clip.has_vision_encoder / clip.has_audio_encoder)");
        }
        long out = outputEmbedding(gguf);
        int nEmbd = model.embeddingSize();
        if (out > 0 && out != nEmbd) {
            throw new LlamaException("projector " + mmproj.getFileName() + " makes " + out + "-wide embeddings but model "
                    + model.path().getFileName() + " reads " + nEmbd + "-wide ones (n_embd): this projector was made for"
                    + " another model; use the mmproj file published with this model");
        }
        Llama.init();
        mtmd_log_set(NativeLog.callback(), null);
        mtmd_helper_log_set(NativeLog.callback(), null);
        mtmd_context ctx;
        try (mtmd_context_params p = mtmd_context_params_default();
             BytePointer file = new BytePointer(mmproj.toAbsolutePath().toString(), StandardCharsets.UTF_8)) {
            p.use_gpu(params.gpu()).n_threads(params.threads()).print_timings(false).warmup(params.warmup());
            NativeErrors.clear();
            ctx = mtmd_init_from_file(file, model.port().handle(), p);
        }
        if (ctx == null || ctx.isNull()) {
            throw new LlamaException("mtmd could not load projector " + mmproj.toAbsolutePath()
                    + " for model " + model.path().getFileName() + NativeErrors.suffix());
        }
        if (mtmd_decode_use_mrope(ctx)) {
            mtmd_free(ctx);
            throw new UnsupportedOperationException("projector " + mmproj.getFileName() + " is for a model with M-RoPE"
                    + " positions (Qwen2-VL family), which llama-java's sequences do not support yet");
        }
        State state = new State(ctx);
        try {
            state.detach = model.port().addDependent(state);
        } catch (RuntimeException e) {
            state.run();
            throw e;
        }
        return new Projector(state, model, mmproj);
    }

    /**
     * The width of the embeddings the projector makes, from its tensors as clip.cpp reads it, or
     * -1 for projector types this check does not know (mtmd then checks it itself).
     */
    static long outputEmbedding(GgufFile gguf) {
        String type = gguf.getString("clip.projector_type");
        if (type == null) {
            type = gguf.getString("clip.vision.projector_type");
        }
        if (type == null) {
            type = gguf.getString("clip.audio.projector_type");
        }
        if (type == null) {
            return -1;
        }
        Object[] rule = switch (type) {
            case "mlp", "phi4", "pixtral", "lightonocr", "ultravox", "voxtral", "musicflamingo", "qwen3a", "glma", "lfm2",
                    "kimivl", "paddleocr" -> new Object[] {"mm.2.weight", 1};
            case "mlp_norm" -> new Object[] {"mm.3.bias", 0};
            case "qwen2vl_merger", "qwen2.5vl_merger" -> new Object[] {"mm.1.bias", 0};
            case "gemma3" -> new Object[] {"mm.input_projection.weight", 0};
            case "idefics3" -> new Object[] {"mm.model.fc.weight", 1};
            case "internvl" -> new Object[] {"mm.3.weight", 1};
            default -> null;
        };
        if (rule == null) {
            return -1;
        }
        for (GgufFile.TensorInfo t : gguf.tensors()) {
            if (t.name().equals(rule[0])) {
                long[] shape = t.shape();
                int dim = (Integer) rule[1];
                return dim < shape.length ? shape[dim] : 1;
            }
        }
        return -1;
    }

    /** The media marker: where a prompt's text puts each {@link Media} ({@code <__media__>}). */
    public static String marker() {
        Llama.init();
        return mtmd_default_marker().getString(StandardCharsets.UTF_8);
    }

    /** The model this projector was loaded for. */
    public Model model() {
        return model;
    }

    /** The mmproj file. */
    public Path path() {
        return path;
    }

    /** Whether it takes images. */
    public boolean supportsVision() {
        return vision;
    }

    /** Whether it takes audio. */
    public boolean supportsAudio() {
        return audio;
    }

    /** The sample rate {@link Media#pcm} audio must have, or -1 if the projector takes no audio. */
    public int audioSampleRate() {
        return audio ? use(() -> mtmd_get_audio_sample_rate(handle())) : -1;
    }

    /**
     * How many positions (tokens) of the context one media takes, as the model sees it (for an
     * image, after the projector's resizing and slicing, with any begin/end markers around it).
     *
     * @throws IllegalArgumentException for a media type this projector does not take
     * @throws LlamaException if the media cannot be decoded
     */
    public int countTokens(Media media) {
        return use(() -> {
            try (Tokenized t = tokenize(marker(), List.of(media), false)) {
                int n = 0;
                for (PromptSegment s : t.segments) {
                    n += s.positions();
                }
                return n;
            }
        });
    }

    /**
     * Makes {@code sequence} hold the prompt (text with one {@link #marker()} per media, in order),
     * evaluating only what follows what it already holds, then generates. The prompt must end with
     * text after its last media. The model's BOS token is added unless the text starts with it.
     *
     * @return the completion; its {@link Completion#mediaTokens()} counts the prompt's media positions
     * @throws IllegalArgumentException if the markers and media do not match, or for an
     *     unsupported media type
     * @throws LlamaException if a media cannot be decoded (corrupt, truncated)
     * @throws org.llamajava.ContextOverflowException if the prompt (with its images) does not fit the context
     */
    public Completion generate(Sequence sequence, String prompt, List<Media> media, Sampler sampler,
                               GenerateOptions options) {
        return use(() -> {
            checkSequence(sequence);
            try (Tokenized t = tokenize(prompt, media, true)) {
                checkBatch(sequence, t);
                return sequence.port().generate(t.segments, sampler, options);
            }
        });
    }

    /**
     * Makes {@code sequence} hold the prompt without generating (as {@link #generate} does first).
     *
     * @return how many positions were reused from the cache instead of evaluated
     */
    public int evaluate(Sequence sequence, String prompt, List<Media> media) {
        return use(() -> {
            checkSequence(sequence);
            try (Tokenized t = tokenize(prompt, media, true)) {
                checkBatch(sequence, t);
                return sequence.port().prompt(t.segments);
            }
        });
    }

    /**
     * Queues the prompt (text with one {@link #marker()} per media) on a batching engine over this
     * projector's model: its text is batched with the engine's other requests, and each image is
     * evaluated by a decode of its own when the request reaches it; a slot that holds the same
     * text and images reuses them. The projector must stay open until the request completes.
     *
     * @return the request's handle; its completion's {@link Completion#mediaTokens()} counts the media positions
     * @throws org.llamajava.ContextOverflowException if the prompt does not fit a slot
     */
    public org.llamajava.batch.BatchHandle submit(org.llamajava.batch.BatchEngine engine, String prompt,
                                                  List<Media> media, Sampler.Builder sampler,
                                                  GenerateOptions options) {
        return submit(engine, prompt, media, sampler, options, null);
    }

    /**
     * As {@link #submit(org.llamajava.batch.BatchEngine, String, List, Sampler.Builder, GenerateOptions)},
     * generating with these LoRA adapters and scales instead of the engine's (see
     * {@link org.llamajava.batch.BatchRequest#loraAdapters()}).
     *
     * @param loraAdapters the request's adapters (an empty map: none), or null for the engine's
     */
    public org.llamajava.batch.BatchHandle submit(org.llamajava.batch.BatchEngine engine, String prompt,
                                                  List<Media> media, Sampler.Builder sampler,
                                                  GenerateOptions options,
                                                  java.util.Map<org.llamajava.LoraAdapter, Float> loraAdapters) {
        if (engine == null || options == null) {
            throw new IllegalArgumentException("engine and options are required");
        }
        return use(() -> {
            Tokenized t = tokenize(prompt, media, true);
            try {
                if (t.segments.isEmpty() || t.segments.get(t.segments.size() - 1).isMedia()) {
                    throw new IllegalArgumentException("a multimodal prompt must end with text after its last image");
                }
                org.llamajava.batch.BatchHandle h = engine.submitMedia(
                        new org.llamajava.internal.MediaPrompt(t.segments), sampler, options, loraAdapters);
                h.completion().whenComplete((c, e) -> t.close());
                return h;
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
        });
    }

    private void checkSequence(Sequence sequence) {
        if (sequence == null) {
            throw new IllegalArgumentException("sequence is null");
        }
        handle();
        if (sequence.context().model() != model) {
            throw new IllegalArgumentException("the sequence belongs to a context of another model than this projector's");
        }
    }

    /** Non-causal encoders' chunks (e.g. Gemma 3's images) must be decoded in one micro-batch. */
    private void checkBatch(Sequence sequence, Tokenized t) {
        llama_context lctx = sequence.port().context().handle();
        int ubatch = org.llamajava.bindings.global.llama.llama_n_ubatch(lctx);
        for (int i = 0; i < t.segments.size(); i++) {
            PromptSegment s = t.segments.get(i);
            if (s.isMedia() && s.positions() > ubatch
                    && mtmd_decode_use_non_causal(state.ctx, mtmd_input_chunks_get(t.chunks, i))) {
                throw new IllegalArgumentException("this model reads an image's " + s.positions()
                        + " embeddings in one micro-batch, but the context's ubatchSize is " + ubatch
                        + "; create the Context with ubatchSize (and batchSize) of at least " + s.positions());
            }
        }
    }

    /** A tokenized prompt: native chunks (freed on close) and the segments over them. */
    private final class Tokenized implements AutoCloseable {
        final mtmd_input_chunks chunks;
        final List<mtmd_bitmap> bitmaps;
        final List<PromptSegment> segments = new ArrayList<>();

        Tokenized(mtmd_input_chunks chunks, List<mtmd_bitmap> bitmaps) {
            this.chunks = chunks;
            this.bitmaps = bitmaps;
        }

        @Override
        public void close() {
            mtmd_input_chunks_free(chunks);
            bitmaps.forEach(b -> mtmd_bitmap_free(b));
        }
    }

    private Tokenized tokenize(String prompt, List<Media> media, boolean addBos) {
        if (prompt == null || media == null || media.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("prompt and media are required (media may be an empty list, not null)");
        }
        mtmd_context ctx = handle();
        String marker = marker();
        int markers = 0;
        for (int at = prompt.indexOf(marker); at >= 0; at = prompt.indexOf(marker, at + marker.length())) {
            markers++;
        }
        if (markers != media.size()) {
            throw new IllegalArgumentException("the prompt has " + markers + " media markers (" + marker + ") for "
                    + media.size() + " media; put one marker where each image or audio clip goes");
        }
        for (Media m : media) {
            if (m.type() == MediaType.IMAGE && !vision) {
                throw new IllegalArgumentException("unsupported media type: " + m + " is an image, but projector "
                        + path.getFileName() + " takes only audio");
            }
            if (m.type() == MediaType.AUDIO && !audio) {
                throw new IllegalArgumentException("unsupported media type: " + m + " is audio, but projector "
                        + path.getFileName() + " takes only images");
            }
        }
        List<mtmd_bitmap> bitmaps = new ArrayList<>();
        mtmd_input_chunks chunks = null;
        boolean ok = false;
        try {
            for (Media m : media) {
                bitmaps.add(Bitmaps.of(ctx, m));
            }
            org.llamajava.Vocabulary vocab = model.vocabulary();
            boolean bos = addBos && vocab.addsBos() && vocab.bos() != org.llamajava.Vocabulary.NO_TOKEN
                    && !prompt.startsWith(vocab.tokenPiece(vocab.bos()));
            chunks = mtmd_input_chunks_init();
            byte[] utf8 = prompt.getBytes(StandardCharsets.UTF_8);
            int rc;
            try (BytePointer text = new BytePointer(utf8.length + 1);
                 mtmd_input_text in = new mtmd_input_text();
                 PointerPointer<mtmd_bitmap> list = new PointerPointer<>(Math.max(1, bitmaps.size()))) {
                text.put(utf8).put(utf8.length, (byte) 0);
                in.text(text).text_len(utf8.length).add_special(bos).parse_special(true);
                for (int i = 0; i < bitmaps.size(); i++) {
                    list.put(i, bitmaps.get(i));
                }
                NativeErrors.clear();
                rc = mtmd_tokenize(ctx, chunks, in, list, bitmaps.size());
            }
            if (rc != 0) {
                throw new LlamaException("mtmd could not tokenize the prompt with its " + media.size() + " media (code "
                        + rc + (rc == 2 ? ": an image could not be preprocessed" : "") + ")" + NativeErrors.suffix());
            }
            Tokenized t = new Tokenized(chunks, bitmaps);
            long n = mtmd_input_chunks_size(chunks);
            for (long i = 0; i < n; i++) {
                mtmd_input_chunk chunk = mtmd_input_chunks_get(chunks, i);
                int type = mtmd_input_chunk_get_type(chunk);
                if (type == MTMD_INPUT_CHUNK_TYPE_TEXT) {
                    try (SizeTPointer count = new SizeTPointer(1)) {
                        IntPointer toks = mtmd_input_chunk_get_tokens_text(chunk, count);
                        int[] ids = new int[(int) count.get()];
                        if (ids.length > 0) {
                            toks.capacity(ids.length).get(ids);
                        }
                        t.segments.add(PromptSegment.text(ids));
                    }
                } else {
                    int positions = mtmd_input_chunk_get_n_pos(chunk);
                    BytePointer id = mtmd_input_chunk_get_id(chunk);
                    String key = id == null || id.isNull() ? "" : id.getString(StandardCharsets.UTF_8);
                    t.segments.add(PromptSegment.media(Bitmaps.key(key, i), positions, (lctx, seq, pos, nBatch) -> {
                        state.lock.lock(); // also called from a batching engine's thread
                        try (IntPointer newPos = new IntPointer(1)) {
                            if (state.isFreed()) {
                                throw new IllegalStateException("Projector " + path + " was closed before its image"
                                        + " was evaluated");
                            }
                            NativeErrors.clear();
                            return mtmd_helper_eval_chunk_single(state.ctx, lctx, chunk, pos, seq, nBatch, false, newPos);
                        } finally {
                            state.lock.unlock();
                        }
                    }));
                }
            }
            ok = true;
            return t;
        } finally {
            if (!ok) {
                if (chunks != null) {
                    mtmd_input_chunks_free(chunks);
                }
                bitmaps.forEach(b -> mtmd_bitmap_free(b));
            }
        }
    }

    mtmd_context handle() {
        if (state.isFreed()) {
            throw new IllegalStateException("Projector " + path + " is closed" + (model.isClosed() ? " (its model was closed)" : ""));
        }
        return state.ctx;
    }

    /** Whether this projector (or its model) was closed. */
    public boolean isClosed() {
        return state.isFreed();
    }

    /**
     * Frees the projector; idempotent. Closing its model does this first.
     *
     * @throws IllegalStateException if another thread is using it
     */
    @Override
    public void close() {
        if (!state.lock.tryLock()) {
            throw new IllegalStateException("cannot close " + this + ": thread '" + state.user
                    + "' is using it; stop that work first");
        }
        try {
            cleanable.clean();
        } finally {
            while (state.lock.isHeldByCurrentThread()) {
                state.lock.unlock();
            }
        }
    }

    @Override
    public String toString() {
        return "Projector[" + path + (isClosed() ? ", closed]" : "]");
    }

    private static final class State extends NativeState {
        final mtmd_context ctx;
        /** Held by the thread using the projector, or by the thread closing its model. */
        final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        volatile Thread user;
        volatile Runnable detach;

        State(mtmd_context ctx) {
            this.ctx = ctx;
        }

        /** Closing the model claims its projectors: refused while one is in use by another thread. */
        @Override
        public boolean tryClaim() {
            // in use by this very thread (e.g. closing the model from a generation callback): refused too
            return !lock.isHeldByCurrentThread() && lock.tryLock();
        }

        @Override
        public void release() {
            if (lock.isHeldByCurrentThread()) {
                lock.unlock();
            }
        }

        @Override
        public Thread user() {
            return user;
        }

        @Override
        protected void free() {
            Runnable d = detach;
            if (d != null) {
                d.run();
            }
            mtmd_free(ctx);
            while (lock.isHeldByCurrentThread()) {
                lock.unlock();
            }
        }
    }

    /** Runs {@code body} holding the projector (so that its model cannot close it meanwhile). */
    private <T> T use(java.util.function.Supplier<T> body) {
        state.lock.lock();
        Thread before = state.user;
        state.user = Thread.currentThread();
        try {
            handle();
            return body.get();
        } finally {
            state.user = before;
            state.lock.unlock();
        }
    }
}
