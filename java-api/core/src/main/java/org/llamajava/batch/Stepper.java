package org.llamajava.batch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.FinishReason;
import org.llamajava.LlamaException;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Timings;
import org.llamajava.Vocabulary;
import org.llamajava.internal.BatchDecoder;
import org.llamajava.internal.GenerationEvent;
import org.llamajava.internal.MediaPrompt;
import org.llamajava.internal.PromptSegment;
import org.llamajava.internal.TokenLoop;

/**
 * The engine thread's work over the slots of a {@link BatchEngine}: starting a request in a slot
 * (slot choice, prompt-cache reuse), each step's decode (media chunks, one set of LoRA adapters,
 * the generating requests' next tokens and chunks of prompts in the room left), sampling, and
 * ending requests; and the counters of {@link EngineStats}. Engine thread only, but for
 * {@link #active()} and {@link #stats}, which any thread may read.
 */
final class Stepper {
    /** The engine's debug log (llama-server's slot and prompt-cache lines, with its test tags). */
    private static final System.Logger LOG = System.getLogger(BatchEngine.class.getName());

    private final Model model;
    private final Vocabulary vocab;
    private final BatchDecoder<Sampler> decoder;
    private final int perSlot;
    private final Slot[] slots;
    private int prefillCursor;
    private final int[] sampleSlots;
    /** The slots whose prompt a step advanced, to tell their progress listeners (engine thread). */
    private final int[] progressed;
    /**
     * What each slot held before this step's rows (its length, the token it was to decode, its
     * prompt's next token; -2: no rows this step), to undo the step when the KV cache had no room.
     */
    private final int[] undoLength;
    private final int[] undoLast;
    private final int[] undoNext;

    private final SlotChooser chooser;
    private final MediaChunks media;
    private final LoraScheduler lora;
    /** Idle slots' caches in host memory; null when off. */
    private final PromptCache promptCache;
    /** Whether a request's start saves the idle slots into the prompt cache and clears them ({@link EngineParams#cacheIdleSlots()}). */
    private final boolean cacheIdleSlots;
    /** Whether a generating request whose slot is full shifts it (else it ends). */
    private final boolean shift;
    /** Tokens at the start of a slot that a shift keeps. */
    private final int keep;

    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong promptEvaluated = new AtomicLong();
    private final AtomicLong promptCached = new AtomicLong();
    private final AtomicLong generated = new AtomicLong();
    private final AtomicLong decodes = new AtomicLong();
    private volatile int active;

    /** Over {@code context}, of {@code params.slots()} slots of {@code perSlot} tokens each. */
    Stepper(Model model, Context context, EngineParams params, int perSlot) {
        this.model = model;
        this.vocab = model.vocabulary();
        this.decoder = context.port().decoder();
        this.perSlot = perSlot;
        this.slots = new Slot[params.slots()];
        this.busy = new java.util.concurrent.atomic.AtomicIntegerArray(params.slots());
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i);
        }
        this.sampleSlots = new int[slots.length];
        this.progressed = new int[slots.length];
        this.undoLength = new int[slots.length];
        this.undoLast = new int[slots.length];
        this.undoNext = new int[slots.length];
        this.chooser = new SlotChooser(slots);
        this.media = new MediaChunks(context, decoder);
        this.lora = new LoraScheduler(context, slots);
        this.promptCache = params.promptCacheBytes() != 0
                ? new PromptCache(decoder, vocab, params.promptCacheBytes()) : null;
        this.cacheIdleSlots = promptCache != null && params.cacheIdleSlots();
        if (cacheIdleSlots) {
            LOG.log(System.Logger.Level.DEBUG, "idle slots will be saved to the prompt cache and cleared when a request"
                    + " starts __TEST_TAG_CACHE_IDLE_SLOTS_ENABLED__");
        } else if (params.cacheIdleSlots()) {
            LOG.log(System.Logger.Level.DEBUG, "idle slots are not saved: the prompt cache is off");
        }
        this.shift = params.overflow().shift() && context.canShift();
        this.keep = Math.max(0, Math.min(perSlot - 4, params.overflow().keepTokens()));
    }

    /** Whether full slots shift ({@link EngineParams#overflow()} asks for it and the model's memory can). */
    boolean shifts() {
        return shift;
    }

    /** The engine's LoRA adapters: the defaults, the set applied, which set each step decodes. */
    LoraScheduler lora() {
        return lora;
    }

    /**
     * Starts a request in the free slot whose cache shares the longest prefix with its prompt
     * ({@code prompt}: its text and media, or null); a slot must be free.
     */
    void begin(BatchRequest r, BatchHandle handle, MediaPrompt prompt) {
        begin(r, handle, prompt, -1);
    }

    /** {@link #begin(BatchRequest, BatchHandle, MediaPrompt)} in slot {@code slot} (free), or the best free one (-1). */
    void begin(BatchRequest r, BatchHandle handle, MediaPrompt prompt, int slot) {
        if (handle.isCancelled()) {
            Completion c = new Completion("", new int[0], 0, 0, FinishReason.CANCELLED, new Timings(0, 0, 0, 0));
            handle.finished(r, c, -1, 0, 0, System.nanoTime());
            handle.completion().complete(c);
            return;
        }
        Map<LoraAdapter, Float> loras = lora.forRequest(r.loraAdapters());
        Slot best = slot < 0 ? chooser.choose(loras, r) : chooser.choose(loras, r, slot);
        int bestLcp = chooser.shared();
        boolean restored = false;
        if (promptCache != null) {
            // a saved cache sharing a longer prefix than any free slot's: back into the slot
            int back = promptCache.restore(best, loras, r, bestLcp);
            if (back >= 0) {
                restored = true;
                bestLcp = back;
                debug(best, "updating prompt cache: restored a saved cache sharing " + back + " tokens with the prompt");
            }
        }
        int lcp = Math.min(bestLcp, r.promptLength() - 1); // the last prompt token is evaluated again for its logits
        if (prompt != null) {
            lcp = prompt.alignDown(lcp);
        }
        if (promptCache != null && !restored && best.length - lcp >= Math.max(1, lcp)
                && promptCache.save(best)) { // most of the slot's cache is about to go: keep a copy for a later request
            debug(best, "updating prompt cache: saved the slot's " + best.length + " tokens");
        }
        Sampler sampler;
        try {
            sampler = r.sampler() == null ? Sampler.greedy() : r.sampler().build(model);
        } catch (RuntimeException e) {
            handle.failed(r, e);
            handle.completion().completeExceptionally(e);
            return;
        }
        decoder.removeFrom(best.id, lcp);
        best.length = lcp;
        best.loras = loras;
        Run run = new Run(r, handle, sampler, decoder, best.id);
        run.loras = loras;
        run.media = prompt;
        run.next = lcp;
        run.cached = lcp;
        best.run = run;
        busy.set(best.id, 1);
        active++;
        if (run.options.onPromptProgress() != null) {
            run.options.onPromptProgress().progress(r.promptLength(), lcp, lcp, 0);
        }
        if (cacheIdleSlots) {
            cacheIdleSlots();
        }
        if (run.loop.finished()) { // a limit of 0 tokens
            finish(best, TokenLoop.End.MAX_TOKENS);
        }
    }

    /**
     * As llama-server's {@code --cache-idle-slots}: saves every idle slot that holds tokens into the
     * prompt cache (unless it is there already) and clears its KV, since all slots share one KV
     * buffer and the running requests attend over its cells.
     */
    private void cacheIdleSlots() {
        for (Slot s : slots) {
            if (s.run == null && s.length > 0) {
                int n = s.length;
                boolean saved = promptCache.save(s);
                decoder.removeFrom(s.id, 0);
                s.length = 0;
                if (saved) {
                    debug(s, "idle: its " + n + " tokens saved to the prompt cache, its KV cleared"
                            + " __TEST_TAG_CACHE_IDLE_SLOT__");
                }
            }
        }
    }

    /** A debug line about slot {@code s} (built only when the engine's log shows debug lines). */
    private static void debug(Slot s, String message) {
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "slot " + s.id + ": " + message);
        }
    }

    /** One decode: each generating request's next token, then chunks of prompts in the room left. */
    void step() {
        for (Slot s : slots) {
            Run run = s.run;
            if (run != null && run.loop.checkCancelled(null)) {
                finish(s, TokenLoop.End.CANCELLED);
            }
        }
        evaluateMedia();
        Map<LoraAdapter, Float> group = lora.group();
        if (group == null || !applyLoras(group)) {
            return;
        }
        int budget = decoder.capacity();
        int ns = 0;
        int np = 0;
        Arrays.fill(undoLength, -2);
        for (Slot s : slots) {
            Run run = s.run;
            if (run == null || run.last < 0 || !run.loras.equals(group)) {
                continue;
            }
            // as llama-server: the token just sampled needs a cell, and one stays free
            if (s.length + 1 >= perSlot && !shift(s, run)) {
                finish(s, TokenLoop.End.MAX_TOKENS); // the slot's share of the context is full
                continue;
            }
            undoLength[s.id] = s.length;
            undoLast[s.id] = run.last;
            undoNext[s.id] = run.next;
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
            undoLength[s.id] = s.length;
            undoLast[s.id] = run.last;
            undoNext[s.id] = run.next;
            for (int i = 0; i < take; i++) {
                int token = run.request.promptToken(run.next++);
                boolean last = !run.prefilling();
                decoder.add(s.id, token, s.length, last);
                s.remember(token);
            }
            budget -= take;
            if (run.options.onPromptProgress() != null) {
                progressed[np++] = s.id;
            }
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
        if (rc == 1 && dropIdleCaches()) {
            undo(); // llama.cpp wrote nothing: the next step decodes the same rows, in the room made
            return;
        }
        if (rc != 0) {
            RuntimeException e = decoder.failure(rc, rows);
            failAll(rc == 1 ? new org.llamajava.ContextOverflowException("Context size has been exceeded: the slots"
                    + " together hold more tokens than the KV cache has cells (" + e.getMessage() + ")") : e);
            return;
        }
        for (int i = 0; i < np; i++) {
            Run run = slots[progressed[i]].run;
            if (run != null) {
                run.options.onPromptProgress().progress(run.request.promptLength(), run.cached, run.next,
                        System.nanoTime() - run.start);
            }
        }
        for (int i = 0; i < ns; i++) {
            Slot s = slots[sampleSlots[i]];
            if (s.run != null) {
                accept(s);
            }
        }
    }

    /** Puts the slots back as they were before this step's rows. */
    private void undo() {
        for (Slot s : slots) {
            if (undoLength[s.id] != -2 && s.run != null) {
                s.length = undoLength[s.id];
                s.run.last = undoLast[s.id];
                s.run.next = undoNext[s.id];
            }
        }
    }

    /**
     * Drops the caches of the idle slots (into the prompt cache, when it is on), as llama-server
     * clears idle slots when its unified KV cache is full; false if none held anything.
     */
    private boolean dropIdleCaches() {
        boolean dropped = false;
        for (Slot s : slots) {
            if (s.run == null && s.length > 0) {
                if (promptCache != null) {
                    promptCache.save(s);
                }
                decoder.removeFrom(s.id, 0);
                s.length = 0;
                dropped = true;
            }
        }
        return dropped;
    }

    /**
     * llama-server's context shift of a full slot: drops half of the tokens after the first
     * {@link #keep} and moves the rest back; false (nothing done) when the engine does not shift,
     * the request has media (whose chunks span positions) or nothing would be dropped.
     */
    private boolean shift(Slot s, Run run) {
        if (!shift || run.media != null) {
            return false;
        }
        int asked = run.request.keepTokens();
        int keep = asked < 0 ? this.keep : Math.max(0, Math.min(perSlot - 4, asked));
        int left = s.length - keep;
        int discard = Math.max(0, Math.min(left / 2, left - 1));
        if (discard <= 0) {
            return false;
        }
        decoder.shift(s.id, keep, discard, s.length);
        System.arraycopy(s.cache, keep + discard, s.cache, keep, s.length - keep - discard);
        s.length -= discard;
        run.discarded += discard;
        return true;
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
                PromptSegment seg = run.media.mediaAt(run.next);
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
            if (token >= 0) {
                generated.incrementAndGet();
            }
            if (run.loop.take(token, null)) {
                finish(s, run.loop.end());
                return;
            }
            run.last = token;
        } catch (RuntimeException e) {
            fail(s, e);
        }
    }

    /** Ends the slot's request for {@code reason} (unless its loop ended already) and completes it. */
    private void finish(Slot s, TokenLoop.End reason) {
        Run run = s.run;
        s.run = null;
        busy.set(s.id, 0);
        active--;
        try {
            run.loop.finish(reason, null);
        } catch (RuntimeException e) {
            run.sampler.close();
            event(run, s, "FAILED");
            run.handle.failed(run.request, e);
            run.handle.completion().completeExceptionally(e);
            return;
        }
        run.sampler.close();
        long now = System.nanoTime();
        promptEvaluated.addAndGet(run.next - run.cached);
        promptCached.addAndGet(run.cached);
        completed.incrementAndGet();
        Completion c = run.completion(now);
        event(run, s, run.loop.end().name());
        run.handle.finished(run.request, c, s.id, run.start, run.loop.firstTokenAt(), now);
        run.handle.completion().complete(c);
    }

    /** Commits the request's JFR event, if a recording wanted one. */
    private static void event(Run run, Slot s, String finishReason) {
        GenerationEvent e = run.event;
        if (e == null) {
            return;
        }
        e.end();
        if (e.shouldCommit()) {
            e.runner = "engine";
            e.sequence = s.id;
            e.promptTokens = run.next - run.cached;
            e.reusedTokens = run.cached;
            e.generatedTokens = run.loop.count();
            e.timeToFirstToken = run.loop.firstTokenAt() == 0 ? 0 : run.loop.firstTokenAt() - run.start;
            e.finishReason = finishReason;
            e.commit();
        }
    }

    /** Ends a request with an error; its slot's cache is dropped (it may be half written). */
    private void fail(Slot s, Throwable t) {
        Run run = s.run;
        s.run = null;
        busy.set(s.id, 0);
        active--;
        decoder.removeFrom(s.id, 0);
        s.length = 0;
        run.sampler.close();
        Throwable error = t instanceof LlamaException || t instanceof RuntimeException
                || t instanceof java.util.concurrent.CancellationException ? t : new LlamaException(String.valueOf(t), t);
        event(run, s, "FAILED");
        run.handle.failed(run.request, error);
        run.handle.completion().completeExceptionally(error);
    }

    /** Ends every running request with {@code t}. */
    void failAll(Throwable t) {
        for (Slot s : slots) {
            if (s.run != null) {
                fail(s, t);
            }
        }
    }

    /** Requests running now (any thread). */
    int active() {
        return active;
    }

    /** Whether slot {@code id} serves no request (engine thread). */
    boolean isFree(int id) {
        return slots[id].run == null;
    }

    /** Slot {@code id}, idle, for a slot action (engine thread). */
    private Slot idle(int id) {
        Slot s = slots[id];
        if (s.run != null) {
            throw new IllegalStateException("slot " + id + " is generating: try again when its request has finished");
        }
        return s;
    }

    /** Writes idle slot {@code id}'s tokens and KV state to {@code file} (see {@link SlotFile}); the tokens saved. */
    SlotFile.Saved saveSlot(int id, java.nio.file.Path file) {
        Slot s = idle(id);
        for (int i = 0; i < s.length; i++) {
            if (s.cache[i] < 0 || s.cache[i] >= vocab.size()) {
                throw new IllegalStateException("slot " + id + " holds image or audio embeddings, which are not saved");
            }
        }
        byte[] state = decoder.saveSequence(id);
        if (state == null) {
            throw new IllegalStateException("slot " + id + "'s state is too large to save");
        }
        long written = SlotFile.write(file, java.util.Arrays.copyOf(s.cache, s.length), state);
        return new SlotFile.Saved(s.length, written);
    }

    /** Replaces idle slot {@code id}'s cache with the one in {@code file}; the tokens restored. */
    SlotFile.Saved restoreSlot(int id, java.nio.file.Path file) {
        Slot s = idle(id);
        SlotFile.Read read = SlotFile.read(file, perSlot, vocab.size());
        decoder.removeFrom(id, 0);
        s.length = 0;
        if (!decoder.restoreSequence(id, read.state())) {
            throw new IllegalStateException("the state in " + file.getFileName() + " does not fit slot " + id
                    + " (it was saved by another model or context size)");
        }
        int[] tokens = read.tokens();
        s.cache = java.util.Arrays.copyOf(tokens, Math.max(256, tokens.length));
        s.length = tokens.length;
        s.loras = lora.forRequest(null);
        return new SlotFile.Saved(tokens.length, read.bytes());
    }

    /** Empties idle slot {@code id}'s cache; the tokens it held. */
    int eraseSlot(int id) {
        Slot s = idle(id);
        int n = s.length;
        decoder.removeFrom(id, 0);
        s.length = 0;
        return n;
    }

    /** Which slots serve a request (1) or are idle (0), readable from any thread. */
    final java.util.concurrent.atomic.AtomicIntegerArray busy;

    /** Whether each slot serves a request now (any thread; a snapshot). */
    boolean[] busySlots() {
        boolean[] out = new boolean[busy.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = busy.get(i) != 0;
        }
        return out;
    }

    /** Counters since the engine started, with {@code queued} requests waiting (any thread). */
    EngineStats stats(int queued) {
        return new EngineStats(slots.length, active, queued, completed.get(), promptEvaluated.get(),
                promptCached.get(), generated.get(), decodes.get(), promptCache == null ? 0 : promptCache.entries(),
                promptCache == null ? 0 : promptCache.bytes(), promptCache == null ? 0 : promptCache.restores());
    }

    /** The tokens each slot's cache holds. */
    List<int[]> cachedTokens() {
        List<int[]> out = new ArrayList<>();
        for (Slot s : slots) {
            out.add(Arrays.copyOf(s.cache, s.length));
        }
        return out;
    }
}
