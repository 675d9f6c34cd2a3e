package org.llamajava.server;

import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.OverflowPolicy;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.EngineParams;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.multimodal.Projector;

/**
 * What a {@link LlamaServer} builds over its model, and frees while it sleeps
 * ({@link ServerConfig#sleepIdle()}): the batching engine and the endpoints over it (generation),
 * or the embedder or reranker (embedding and rerank modes). One per waking; the model, the
 * projector and the HTTP server stay.
 */
final class Backend implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LlamaServer.class.getName());

    /** Null in the embedding and rerank modes. */
    final BatchEngine engine;
    /** Null in generation mode. */
    final EmbeddingApi embeddings;
    /** Null unless in generation mode. */
    final GenerationApi generation;
    final LoraApi loras;

    private Backend(BatchEngine engine, EmbeddingApi embeddings, GenerationApi generation, LoraApi loras) {
        this.engine = engine;
        this.embeddings = embeddings;
        this.generation = generation;
        this.loras = loras;
    }

    /**
     * Builds it: the engine, its context prepared by {@code setup} (LoRA adapters, control
     * vectors), with {@code loraScales} the default adapters' scales when not null (those the
     * server had before it slept); or the embedder.
     */
    static Backend open(ServerContext context, ChatTemplate template, Projector projector,
                        Consumer<? super org.llamajava.Context> setup, Map<LoraAdapter, Float> loraScales) {
        ServerConfig config = context.config();
        if (config.mode() != ServerMode.COMPLETION) {
            EmbeddingApi embeddings = new EmbeddingApi(context, config.mode() == ServerMode.RERANK);
            return new Backend(null, embeddings, null, new LoraApi(context, null));
        }
        Model model = context.model();
        BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(config.slots())
                .contextSize(config.contextSize()).batchSize(Math.max(config.batchSize(), config.slots()))
                .threads(config.threads()).maxQueue(config.maxQueue()).promptCacheBytes(config.promptCacheBytes())
                .overflow(overflow(model, config, projector != null)).unifiedKv(config.kvUnified()).build(), setup);
        try {
            if (config.contextShift() && projector == null && !engine.contextShift()) {
                LOG.warning("--context-shift is off: this model's memory cannot shift positions");
            }
            if (loraScales != null) {
                engine.setLoraAdapters(loraScales);
            }
            LoraApi loras = new LoraApi(context, engine);
            return new Backend(engine, null, new GenerationApi(context, engine, template, projector, loras), loras);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    /**
     * The engine's overflow policy: llama-server's context shift, keeping {@code --keep} tokens and
     * the BOS token, or none; none with a projector, as llama-server turns it off with {@code --mmproj}.
     */
    private static OverflowPolicy overflow(Model model, ServerConfig config, boolean media) {
        if (!config.contextShift()) {
            return OverflowPolicy.fail();
        }
        if (media) {
            LOG.warning("--context-shift is off: it does not work with --mmproj (as in llama-server)");
            return OverflowPolicy.fail();
        }
        return OverflowPolicy.shift(config.keepTokens() + (model.vocabulary().addsBos() ? 1 : 0));
    }

    /** Whether a request is running or waiting in it. */
    boolean busy() {
        if (engine != null) {
            org.llamajava.batch.EngineStats s = engine.stats();
            return s.activeSlots() > 0 || s.queued() > 0;
        }
        return embeddings.queued() > 0;
    }

    /** Frees the engine's context, or the embedder. */
    @Override
    public void close() {
        if (engine != null) {
            engine.close();
        }
        if (embeddings != null) {
            embeddings.close();
        }
    }
}
