package org.llamajava.batch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.LlamaException;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Timings;
import org.llamajava.Vocabulary;
import org.llamajava.internal.BatchDecoder;
import org.llamajava.internal.Handles;
import org.llamajava.internal.MediaPrompt;
import org.llamajava.internal.LogProbs;

/**
 * Continuous batching: many requests generated at once over one {@link Context}, every active
 * request's next token (plus chunks of waiting prompts) in one {@code llama_decode} per step.
 * Requests join and leave between steps.
 *
 * <pre>{@code
 * try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(8).build())) {
 *     BatchHandle h = engine.submit(BatchRequest.of(tokens, GenerateOptions.maxTokens(64)));
 *     Completion c = h.completion().join();
 * }
 * }</pre>
 *
 * <p>Each of {@link EngineParams#slots()} slots is one sequence of the context. A new request
 * takes the free slot whose cached tokens share the longest prefix with its prompt and evaluates
 * only the rest (prompt-cache reuse, as llama-server does). In each step every generating request
 * adds one token, and the rest of the batch goes to waiting prompts in chunks shared between them,
 * so a long prompt never stalls running generations. Requests beyond the slots wait in a bounded
 * queue; past it {@link #submit} throws {@link QueueFullException}.
 *
 * <p>LoRA adapters: a request may name its own ({@link BatchRequest#loraAdapters()}); the others
 * use the engine's, {@link #loraAdapters()}, which {@link #setLoraAdapters} changes for the
 * requests that start afterwards. As in llama-server, requests with different adapters are not
 * decoded together: each step decodes the requests of one set of adapters, and when several sets
 * have work the engine switches to the next after at most {@value #LORA_QUANTUM} steps. A slot's
 * cached prefix is reused only by a request with the same adapters. An adapter the engine has
 * been given stays in use (it cannot be closed) until the engine closes.
 *
 * <p>One engine thread owns the context. Callbacks of a request run on it. {@link #close()}
 * cancels what is running and queued and frees the context; closing the model while the engine
 * runs is refused.
 */
public final class BatchEngine implements AutoCloseable {
    private final Model model;
    private final Vocabulary vocab;
    private final EngineParams params;
    private final Context context;
    private final BatchDecoder decoder;
    private final int perSlot;
    private final Slot[] slots;
    private final BlockingQueue<Pending> queue;
    private final Thread thread;
    private volatile boolean closing;
    private final Object startLock = new Object();
    private Throwable startFailure;
    private boolean started;
    private int prefillCursor;
    private final int[] sampleSlots;
    private final int[] pieceLength = new int[1];

    private final SlotChooser chooser;
    private final MediaChunks media;
    private final LoraScheduler lora;
    /** Most steps one set of LoRA adapters decodes while requests with another set wait. */
    static final int LORA_QUANTUM = 8;
    /** Idle slots' caches in host memory; null when off. */
    private final PromptCache promptCache;

    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong promptEvaluated = new AtomicLong();
    private final AtomicLong promptCached = new AtomicLong();
    private final AtomicLong generated = new AtomicLong();
    private final AtomicLong decodes = new AtomicLong();
    private volatile int active;

    private record Pending(BatchRequest request, BatchHandle handle, MediaPrompt media) {}

    static {
        Handles.registerBatchMedia((engine, prompt, sampler, options, loras) ->
                ((BatchEngine) engine).submitMedia(prompt, sampler, options, loras));
    }

    private BatchEngine(Model model, EngineParams params) {
        this.model = model;
        this.vocab = model.vocabulary();
        this.params = params;
        this.context = model.createContext(ContextParams.builder().contextSize(params.contextSize())
                .batchSize(params.batchSize()).ubatchSize(Math.min(512, params.batchSize())).sequences(params.slots())
                .threads(params.threads()).build());
        this.decoder = Handles.decoder(context);
        this.perSlot = context.contextSize() / params.slots();
        this.slots = new Slot[params.slots()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i);
        }
        this.sampleSlots = new int[slots.length];
        this.queue = new ArrayBlockingQueue<>(params.maxQueue());
        this.chooser = new SlotChooser(slots);
        this.media = new MediaChunks(context, decoder);
        this.lora = new LoraScheduler(context, slots);
        this.promptCache = params.promptCacheBytes() != 0
                ? new PromptCache(decoder, vocab, params.promptCacheBytes()) : null;
        this.thread = new Thread(this::loop, "llama-java-engine");
        this.thread.setDaemon(true);
    }

    /**
     * Creates the engine's context over {@code model} and starts its thread.
     *
     * @throws IllegalStateException if the model was loaded vocab-only
     */
    public static BatchEngine start(Model model, EngineParams params) {
        return start(model, params, null);
    }

    /**
     * Creates the engine's context over {@code model}, lets {@code setup} prepare it, and starts
     * the engine's thread. {@code setup} runs once, on the calling thread, before any request: it
     * is for what applies to every slot, such as LoRA adapters
     * ({@link Context#setLoraAdapters}) or a control vector ({@link Context#setControlVector});
     * it must not keep the context, which belongs to the engine from then on.
     *
     * <pre>{@code
     * BatchEngine engine = BatchEngine.start(model, EngineParams.defaults(), ctx -> ctx.setLoraAdapter(style, 0.8f));
     * }</pre>
     *
     * @param setup null for none; an exception it throws closes the context and reaches the caller
     * @throws IllegalStateException if the model was loaded vocab-only
     */
    public static BatchEngine start(Model model, EngineParams params, java.util.function.Consumer<? super Context> setup) {
        if (model == null || params == null) {
            throw new IllegalArgumentException("model and params are required; e.g. EngineParams.defaults()");
        }
        BatchEngine e = new BatchEngine(model, params);
        if (setup != null) {
            try {
                setup.accept(e.context);
            } catch (RuntimeException | Error x) {
                e.context.close();
                throw x;
            }
        }
        e.lora.started(e.context.loraAdapters());
        e.thread.start();
        synchronized (e.startLock) {
            while (!e.started && e.startFailure == null) {
                try {
                    e.startLock.wait();
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    e.close();
                    throw new IllegalStateException("interrupted while starting the engine", x);
                }
            }
        }
        if (e.startFailure != null) {
            e.context.close();
            throw new IllegalStateException("the engine could not start: " + e.startFailure, e.startFailure);
        }
        return e;
    }

    /** The parameters it was started with. */
    public EngineParams params() {
        return params;
    }

    /**
     * The LoRA adapters, with their scales, of requests that name none: at first those that the
     * setup applied (see {@link #start(Model, EngineParams, java.util.function.Consumer)}), in that
     * order, including any at scale 0.
     */
    public Map<LoraAdapter, Float> loraAdapters() {
        return lora.defaults();
    }

    /**
     * Sets the LoRA adapters (of this engine's model) and scales for requests that name none and
     * start from now on (an empty map: none); running requests go on with theirs. Each adapter
     * stays in use by the engine until it closes.
     *
     * @throws IllegalArgumentException for an adapter of another model, or a scale that is not finite
     * @throws IllegalStateException for a closed adapter, or once the engine is closed
     */
    public void setLoraAdapters(Map<LoraAdapter, Float> adapters) {
        if (adapters == null) {
            throw new IllegalArgumentException("adapters is null; pass an empty map for none");
        }
        if (closing) {
            throw new IllegalStateException("the engine is closed");
        }
        lora.setDefaults(BatchRequest.checkedCopy(adapters));
    }

    /** Most tokens one request may hold (prompt and generated): the context divided by the slots. */
    public int tokensPerSlot() {
        return perSlot;
    }

    /**
     * Queues a request; it starts when a slot is free.
     *
     * @throws QueueFullException if all slots are busy and {@link EngineParams#maxQueue()} requests wait
     * @throws IllegalArgumentException for token ids outside the vocabulary, or a prompt that does
     *     not leave room in a slot for one generated token
     * @throws IllegalStateException once closed
     */
    public BatchHandle submit(BatchRequest request) {
        if (request == null) {
            throw new IllegalArgumentException("request is null");
        }
        if (closing) {
            throw new IllegalStateException("the engine is closed");
        }
        vocab.checkTokens(request.prompt());
        lora.hold(request.loraAdapters());
        if (request.options().speculation() != null) {
            throw new IllegalArgumentException("the batching engine does not speculate: generate through a Sequence"
                    + " for speculative decoding, or leave GenerateOptions.speculation unset");
        }
        if (request.promptLength() >= perSlot) {
            throw new IllegalArgumentException("the prompt has " + request.promptLength() + " tokens; a slot holds "
                    + perSlot + " (contextSize / slots), prompt and reply together: shorten it, or start the engine"
                    + " with a larger contextSize or fewer slots");
        }
        return enqueue(request, null);
    }

    /**
     * Queues a prompt of text and media chunks (from {@code org.llamajava.multimodal.Projector}):
     * text is batched with the other requests; each media chunk is evaluated by its own decode
     * when the request's prefill reaches it. A slot holding the same text and media reuses them.
     */
    private BatchHandle submitMedia(MediaPrompt prompt, Sampler.Builder sampler, GenerateOptions options,
                                    Map<LoraAdapter, Float> loras) {
        if (closing) {
            throw new IllegalStateException("the engine is closed");
        }
        MediaChunks.check(prompt, vocab, perSlot);
        BatchRequest request = new BatchRequest(prompt.keys(), sampler, options, loras);
        lora.hold(request.loraAdapters());
        return enqueue(request, prompt);
    }

    /** Queues a checked request ({@code media}: its prompt's text and media, or null). */
    private BatchHandle enqueue(BatchRequest request, MediaPrompt media) {
        BatchHandle h = new BatchHandle();
        if (!queue.offer(new Pending(request, h, media))) {
            throw new QueueFullException("all " + slots.length + " slots are busy and " + params.maxQueue()
                    + " requests are waiting: retry later");
        }
        return h;
    }

    /** Counters since the engine started. */
    public EngineStats stats() {
        return new EngineStats(slots.length, active, queue.size(), completed.get(), promptEvaluated.get(),
                promptCached.get(), generated.get(), decodes.get(), promptCache == null ? 0 : promptCache.entries(),
                promptCache == null ? 0 : promptCache.bytes(), promptCache == null ? 0 : promptCache.restores());
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closing && !thread.isAlive();
    }

    /**
     * Cancels running and queued requests (their futures complete exceptionally with
     * {@link java.util.concurrent.CancellationException}), stops the engine thread and frees the
     * context; idempotent.
     */
    @Override
    public void close() {
        closing = true;
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException("cannot close the engine from one of its callbacks");
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.handle().completion().completeExceptionally(new java.util.concurrent.CancellationException(
                    "the engine closed before the request started"));
        }
        context.close();
    }

    // ---- the engine thread ----------------------------------------------------------------------

    private void loop() {
        try {
            Handles.enter(context); // the engine thread owns the context while it runs
        } catch (Throwable t) {
            synchronized (startLock) {
                startFailure = t;
                startLock.notifyAll();
            }
            return;
        }
        synchronized (startLock) {
            started = true;
            startLock.notifyAll();
        }
        try {
            while (!closing) {
                admit();
                if (active == 0) {
                    Pending p = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (p != null) {
                        begin(p);
                    }
                    continue;
                }
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            for (Slot s : slots) {
                if (s.run != null) {
                    fail(s, t);
                }
            }
        } finally {
            for (Slot s : slots) {
                if (s.run != null) {
                    fail(s, new java.util.concurrent.CancellationException("the engine closed"));
                }
            }
            Handles.exit(context);
        }
    }

    /** Moves queued requests into free slots. */
    private void admit() {
        while (active < slots.length) {
            Pending p = queue.poll();
            if (p == null) {
                return;
            }
            begin(p);
        }
    }

    /** Starts a request in the free slot whose cache shares the longest prefix with its prompt. */
    private void begin(Pending p) {
        BatchRequest r = p.request();
        if (p.handle().isCancelled()) {
            p.handle().completion().complete(new Completion("", new int[0], 0, 0, FinishReason.CANCELLED,
                    new Timings(0, 0, 0, 0)));
            return;
        }
        Map<LoraAdapter, Float> loras = lora.forRequest(r.loraAdapters());
        Slot best = chooser.choose(loras, r);
        int bestLcp = chooser.shared();
        boolean restored = false;
        if (promptCache != null) {
            // a saved cache sharing a longer prefix than any free slot's: back into the slot
            int back = promptCache.restore(best, loras, r, bestLcp);
            if (back >= 0) {
                restored = true;
                bestLcp = back;
            }
        }
        int lcp = Math.min(bestLcp, r.promptLength() - 1); // the last prompt token is evaluated again for its logits
        if (p.media() != null) {
            lcp = p.media().alignDown(lcp);
        }
        if (promptCache != null && !restored && best.length - lcp >= Math.max(1, lcp)) {
            promptCache.save(best); // most of the slot's cache is about to go: keep a copy for a later request
        }
        Sampler sampler;
        try {
            sampler = r.sampler() == null ? Sampler.greedy() : r.sampler().build(model);
        } catch (RuntimeException e) {
            p.handle().completion().completeExceptionally(e);
            return;
        }
        decoder.removeFrom(best.id, lcp);
        best.length = lcp;
        best.loras = loras;
        Run run = new Run(r, p.handle(), sampler);
        run.loras = loras;
        run.media = p.media();
        run.next = lcp;
        run.cached = lcp;
        best.run = run;
        active++;
        if (promptCache != null) {
            promptCache.stashIdle(slots);
        }
        if (r.options().maxTokens() == 0) {
            finish(best, FinishReason.MAX_TOKENS);
        }
    }

    /** One decode: each generating request's next token, then chunks of prompts in the room left. */
    private void step() {
        for (Slot s : slots) {
            Run run = s.run;
            if (run != null && run.cancelled()) {
                finish(s, FinishReason.CANCELLED);
            }
        }
        evaluateMedia();
        Map<LoraAdapter, Float> group = lora.group();
        if (group == null || !applyLoras(group)) {
            return;
        }
        int budget = decoder.capacity();
        int ns = 0;
        for (Slot s : slots) {
            Run run = s.run;
            if (run == null || run.last < 0 || !run.loras.equals(group)) {
                continue;
            }
            if (s.length >= perSlot) {
                finish(s, FinishReason.MAX_TOKENS); // the slot's share of the context is full
                continue;
            }
            decoder.add(s.id, run.last, s.length, true);
            s.remember(run.last);
            run.last = -1;
            sampleSlots[ns++] = s.id;
            budget--;
        }
        int prefillers = 0;
        for (Slot s : slots) {
            if (s.run != null && s.run.prefilling() && s.run.loras.equals(group)) {
                prefillers++;
            }
        }
        // round-robin over the prefilling slots, so that each gets a share of the room
        for (int k = 0; k < slots.length && budget > 0 && prefillers > 0; k++) {
            Slot s = slots[(prefillCursor + k) % slots.length];
            Run run = s.run;
            if (run == null || !run.prefilling() || !run.loras.equals(group)) {
                continue;
            }
            int take = Math.min(run.request.promptLength() - run.next, Math.max(1, budget / prefillers));
            if (run.media != null) {
                take = Math.min(take, run.media.nextMediaStart(run.next) - run.next); // a media chunk: next step
                if (take == 0) {
                    prefillers--;
                    continue;
                }
            }
            prefillers--;
            for (int i = 0; i < take; i++) {
                int token = run.request.promptToken(run.next++);
                boolean last = !run.prefilling();
                decoder.add(s.id, token, s.length, last);
                s.remember(token);
            }
            budget -= take;
            if (!run.prefilling()) {
                sampleSlots[ns++] = s.id;
            }
        }
        prefillCursor = (prefillCursor + 1) % slots.length;
        int rows = decoder.rows();
        if (rows == 0) {
            return;
        }
        int rc = decoder.decode();
        decodes.incrementAndGet();
        if (rc != 0) {
            RuntimeException e = decoder.failure(rc, rows);
            for (Slot s : slots) {
                if (s.run != null) {
                    fail(s, e);
                }
            }
            return;
        }
        for (int i = 0; i < ns; i++) {
            Slot s = slots[sampleSlots[i]];
            if (s.run != null) {
                accept(s);
            }
        }
    }

    /**
     * Makes the context apply {@code loras}, keeping every slot's cache; false if that failed
     * (e.g. an adapter was closed meanwhile), after failing the requests that wanted them.
     */
    private boolean applyLoras(Map<LoraAdapter, Float> loras) {
        try {
            lora.apply(loras);
            return true;
        } catch (RuntimeException e) {
            for (Slot s : slots) {
                if (s.run != null && s.run.loras.equals(loras)) {
                    fail(s, e);
                }
            }
            return false;
        }
    }

    /**
     * Evaluates, each by its own decode, the media chunks that prefilling requests have reached,
     * before this step's batch is built (no rows are queued, and every slot's logits have been
     * sampled).
     */
    private void evaluateMedia() {
        for (Slot s : slots) {
            Run run = s.run;
            while (run != null && run.media != null && run.prefilling()) {
                org.llamajava.internal.PromptSegment seg = run.media.mediaAt(run.next);
                if (seg == null) {
                    break;
                }
                if (!applyLoras(run.loras)) {
                    break;
                }
                int rc;
                try {
                    rc = media.decode(s, seg);
                } catch (RuntimeException e) {
                    fail(s, e);
                    break;
                }
                decodes.incrementAndGet();
                if (rc != 0) {
                    fail(s, MediaChunks.failure(rc, seg));
                    break;
                }
                for (int i = 0; i < seg.positions(); i++) {
                    s.remember(run.request.promptToken(run.next++));
                }
            }
        }
    }

    /** Samples the slot's next token and hands it to the request. */
    private void accept(Slot s) {
        Run run = s.run;
        if (run.promptDone == 0) {
            run.promptDone = System.nanoTime(); // the decode that evaluated the prompt's last chunk is done
        }
        try {
            int token = decoder.sample(s.id, run.sampler);
            if (token < 0) {
                finish(s, FinishReason.GRAMMAR_REJECTED); // the request's grammar allows no token
                return;
            }
            run.add(token);
            generated.incrementAndGet();
            if (run.options.onToken() != null) {
                run.options.onToken().accept(run.options.logprobs() == 0 ? LogProbs.describe(null, token, 0)
                        : LogProbs.describe(decoder.logits(s.id), token, run.options.logprobs()));
            }
            if (vocab.isEndOfGeneration(token)) {
                finish(s, FinishReason.END_OF_GENERATION);
                return;
            }
            byte[] piece = decoder.piece(token, pieceLength);
            run.text.push(piece, pieceLength[0]);
            if (run.text.stopped()) {
                finish(s, FinishReason.STOP_STRING);
                return;
            }
            if (run.n == run.options.maxTokens()) {
                finish(s, FinishReason.MAX_TOKENS);
                return;
            }
            run.last = token;
        } catch (RuntimeException e) {
            fail(s, e);
        }
    }

    private void finish(Slot s, FinishReason reason) {
        Run run = s.run;
        s.run = null;
        active--;
        FinishReason r;
        try {
            r = run.endText(reason);
        } catch (RuntimeException e) {
            run.sampler.close();
            run.handle.completion().completeExceptionally(e);
            return;
        }
        run.sampler.close();
        long now = System.nanoTime();
        promptEvaluated.addAndGet(run.next - run.cached);
        promptCached.addAndGet(run.cached);
        completed.incrementAndGet();
        run.handle.completion().complete(run.completion(r, now));
    }

    /** Ends a request with an error; its slot's cache is dropped (it may be half written). */
    private void fail(Slot s, Throwable t) {
        Run run = s.run;
        s.run = null;
        active--;
        decoder.removeFrom(s.id, 0);
        s.length = 0;
        run.sampler.close();
        run.handle.completion().completeExceptionally(t instanceof LlamaException || t instanceof RuntimeException
                || t instanceof java.util.concurrent.CancellationException ? t : new LlamaException(String.valueOf(t), t));
    }

    /** For tests: the tokens each slot's cache holds. */
    List<int[]> cachedTokens() {
        List<int[]> out = new ArrayList<>();
        for (Slot s : slots) {
            out.add(Arrays.copyOf(s.cache, s.length));
        }
        return out;
    }
}
