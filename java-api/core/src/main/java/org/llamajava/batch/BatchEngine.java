package org.llamajava.batch;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Vocabulary;
import org.llamajava.internal.MediaPrompt;

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
    private final Vocabulary vocab;
    private final EngineParams params;
    private final Context context;
    private final int perSlot;
    private final BlockingQueue<Pending> queue;
    private final Thread thread;
    private volatile boolean closing;
    private final Object startLock = new Object();
    private Throwable startFailure;
    private boolean started;
    /** The slots and what the engine thread does with them. */
    private final Stepper stepper;
    private final LoraScheduler lora;
    /** Observers of new requests (copy on write). */
    private volatile EngineListener[] listeners = {};
    private final Object listenerLock = new Object();
    /** Most steps one set of LoRA adapters decodes while requests with another set wait. */
    static final int LORA_QUANTUM = 8;

    private record Pending(BatchRequest request, BatchHandle handle, MediaPrompt media, int slot) {}

    /** Work for the engine thread between steps (slot actions), with its result. */
    private record Task<T>(java.util.function.Supplier<T> work, java.util.concurrent.CompletableFuture<T> result) {
        void run() {
            try {
                result.complete(work.get());
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            }
        }
    }

    private final java.util.concurrent.ConcurrentLinkedQueue<Task<?>> tasks = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Requests pinned to a slot that was busy when they came up (engine thread). */
    private final java.util.ArrayDeque<Pending> deferred = new java.util.ArrayDeque<>();

    private BatchEngine(Model model, EngineParams params) {
        this.vocab = model.vocabulary();
        this.params = params;
        this.context = model.createContext(ContextParams.builder().contextSize(params.contextSize())
                .batchSize(params.batchSize()).ubatchSize(Math.min(512, params.batchSize())).sequences(params.slots())
                .threads(params.threads()).build());
        this.perSlot = params.unifiedKv() ? context.contextSize() : context.contextSize() / params.slots();
        this.queue = new ArrayBlockingQueue<>(params.maxQueue());
        this.stepper = new Stepper(model, context, params, perSlot);
        this.lora = stepper.lora();
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

    /**
     * Whether a request whose slot fills up goes on after a context shift: {@link EngineParams#overflow()}
     * asks for it and the model's memory can shift positions ({@link Context#canShift()}).
     */
    public boolean contextShift() {
        return stepper.shifts();
    }

    /**
     * Most tokens one request may hold (prompt and generated): the context divided by the slots,
     * or the whole context with {@link EngineParams#unifiedKv()}.
     */
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
        return submit(request, -1);
    }

    /**
     * Queues a request for slot {@code slot} (0 to {@code slots - 1}), as llama-server's
     * {@code id_slot}: it waits for that slot, reusing the slot's cache as far as the prompt
     * starts with it; -1 for any slot, as {@link #submit(BatchRequest)}.
     *
     * @throws IllegalArgumentException also for a slot out of range
     */
    public BatchHandle submit(BatchRequest request, int slot) {
        if (slot < -1 || slot >= params.slots()) {
            throw new IllegalArgumentException("slot " + slot + " is not one of this engine's slots (0 to "
                    + (params.slots() - 1) + ", or -1 for any)");
        }
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
        return enqueue(request, null, slot);
    }

    /**
     * Queues a prompt of text and media chunks (from {@code org.llamajava.multimodal.Projector}):
     * text is batched with the other requests; each media chunk is evaluated by its own decode
     * when the request's prefill reaches it. A slot holding the same text and media reuses them.
     * Not API: applications call {@code Projector.submit}; {@link MediaPrompt} is in
     * {@code org.llamajava.internal}, which no code outside llama-java's core may use.
     */
    public BatchHandle submitMedia(MediaPrompt prompt, Sampler.Builder sampler, GenerateOptions options,
                                   Map<LoraAdapter, Float> loras) {
        if (closing) {
            throw new IllegalStateException("the engine is closed");
        }
        MediaChunks.check(prompt, vocab, perSlot);
        BatchRequest request = new BatchRequest(prompt.keys(), sampler, options, loras);
        lora.hold(request.loraAdapters());
        return enqueue(request, prompt, -1);
    }

    /** Queues a checked request ({@code media}: its prompt's text and media, or null). */
    private BatchHandle enqueue(BatchRequest request, MediaPrompt media, int slot) {
        BatchHandle h = new BatchHandle(listeners, request);
        if (!queue.offer(new Pending(request, h, media, slot))) {
            QueueFullException e = new QueueFullException("all " + params.slots() + " slots are busy and "
                    + params.maxQueue() + " requests are waiting: retry later");
            h.failed(request, e);
            throw e;
        }
        return h;
    }

    /**
     * Saves slot {@code slot}'s cache (its tokens and KV state) to {@code file}, in llama.cpp's
     * sequence state file layout, as llama-server's {@code POST /slots/ID?action=save}; the
     * future gives the tokens saved and bytes written. It runs on the engine's thread between
     * steps, and fails with {@link IllegalStateException} while the slot generates.
     */
    public java.util.concurrent.CompletableFuture<SlotSave> saveSlot(int slot, java.nio.file.Path file) {
        checkSlot(slot);
        return task(() -> {
            SlotFile.Saved s = stepper.saveSlot(slot, file);
            return new SlotSave(slot, s.tokens(), s.bytes());
        });
    }

    /**
     * Replaces slot {@code slot}'s cache with one {@link #saveSlot} wrote (by an engine over the
     * same model), as llama-server's {@code action=restore}: a later request starting with those
     * tokens reuses them. Fails with {@link IllegalStateException} while the slot generates, and
     * {@link IllegalArgumentException} for a file that is not a saved slot or does not fit.
     */
    public java.util.concurrent.CompletableFuture<SlotSave> restoreSlot(int slot, java.nio.file.Path file) {
        checkSlot(slot);
        return task(() -> {
            SlotFile.Saved s = stepper.restoreSlot(slot, file);
            return new SlotSave(slot, s.tokens(), s.bytes());
        });
    }

    /** Empties slot {@code slot}'s cache, as llama-server's {@code action=erase}; the future gives the tokens it held. */
    public java.util.concurrent.CompletableFuture<Integer> eraseSlot(int slot) {
        checkSlot(slot);
        return task(() -> stepper.eraseSlot(slot));
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= params.slots()) {
            throw new IllegalArgumentException("slot " + slot + " is not one of this engine's slots (0 to "
                    + (params.slots() - 1) + ")");
        }
    }

    private <T> java.util.concurrent.CompletableFuture<T> task(java.util.function.Supplier<T> work) {
        if (closing) {
            throw new IllegalStateException("the engine is closed");
        }
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        tasks.add(new Task<>(work, f));
        if (closing) {
            failTasks();
        }
        return f;
    }

    private void failTasks() {
        Task<?> t;
        while ((t = tasks.poll()) != null) {
            t.result().completeExceptionally(new java.util.concurrent.CancellationException("the engine closed"));
        }
    }

    /**
     * Adds a listener for the requests submitted from now on (for metrics and tracing: see
     * {@link EngineListener}). Listeners cost nothing per token; with none, nothing per request.
     */
    public void addListener(EngineListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener is null");
        }
        synchronized (listenerLock) {
            EngineListener[] a = java.util.Arrays.copyOf(listeners, listeners.length + 1);
            a[a.length - 1] = listener;
            listeners = a;
        }
    }

    /** Removes a listener added by {@link #addListener} (requests already submitted still report to it). */
    public void removeListener(EngineListener listener) {
        synchronized (listenerLock) {
            List<EngineListener> a = new java.util.ArrayList<>(List.of(listeners));
            if (a.remove(listener)) {
                listeners = a.toArray(new EngineListener[0]);
            }
        }
    }

    /** Counters since the engine started. */
    public EngineStats stats() {
        return stepper.stats(queue.size());
    }

    /**
     * Which slots serve a request now, by slot index (a snapshot, from any thread), as
     * llama-server's {@code GET /slots} reports them.
     */
    public boolean[] busySlots() {
        return stepper.busySlots();
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
        while ((p = queue.poll()) != null || (p = deferred.poll()) != null) {
            java.util.concurrent.CancellationException e = new java.util.concurrent.CancellationException(
                    "the engine closed before the request started");
            p.handle().failed(p.request(), e);
            p.handle().completion().completeExceptionally(e);
        }
        failTasks();
        context.close();
    }

    // ---- the engine thread ----------------------------------------------------------------------

    private void loop() {
        try {
            context.port().enter(); // the engine thread owns the context while it runs
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
                Task<?> task;
                while ((task = tasks.poll()) != null) {
                    task.run();
                }
                admit();
                if (stepper.active() == 0) {
                    Pending p = queue.poll(tasks.isEmpty() ? 50 : 0, TimeUnit.MILLISECONDS);
                    if (p != null) {
                        stepper.begin(p.request(), p.handle(), p.media(), p.slot());
                    }
                    continue;
                }
                stepper.step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            stepper.failAll(t);
        } finally {
            stepper.failAll(new java.util.concurrent.CancellationException("the engine closed"));
            context.port().exit();
        }
    }

    /** Moves queued requests into free slots. */
    private void admit() {
        while (stepper.active() < params.slots()) {
            Pending p = null;
            for (java.util.Iterator<Pending> it = deferred.iterator(); it.hasNext();) {
                Pending d = it.next();
                if (stepper.isFree(d.slot())) {
                    it.remove();
                    p = d;
                    break;
                }
            }
            while (p == null && deferred.size() < params.maxQueue()) {
                Pending q = queue.poll();
                if (q == null) {
                    return;
                }
                if (q.slot() >= 0 && !stepper.isFree(q.slot())) {
                    deferred.add(q); // waits for its slot; the others go on
                } else {
                    p = q;
                }
            }
            if (p == null) {
                return;
            }
            stepper.begin(p.request(), p.handle(), p.media(), p.slot());
        }
    }

    /** For tests: the tokens each slot's cache holds. */
    List<int[]> cachedTokens() {
        return stepper.cachedTokens();
    }
}
