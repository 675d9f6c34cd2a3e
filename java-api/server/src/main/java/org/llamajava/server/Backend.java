package org.llamajava.server;

import java.util.LinkedHashMap;
import java.util.List;
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
 * or the embedder or reranker (embedding and rerank modes); and the model itself when the server
 * owns it (started with a loader), which then closes with it, its projector and adapters too. One
 * per waking; the HTTP server stays.
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
    /** The server's context with this backend's model. */
    final ServerContext context;
    /** The model and what was loaded for it. */
    final ServedModel served;
    /** The template chat requests render with. */
    final ChatTemplate template;
    /** Whether {@link #close()} closes the model too. */
    private final boolean ownsModel;

    private Backend(BatchEngine engine, EmbeddingApi embeddings, GenerationApi generation, LoraApi loras,
                    ServerContext context, ServedModel served, ChatTemplate template, boolean ownsModel) {
        this.engine = engine;
        this.embeddings = embeddings;
        this.generation = generation;
        this.loras = loras;
        this.context = context;
        this.served = served;
        this.template = template;
        this.ownsModel = ownsModel;
    }

    /** The template of a served model: its own, else the configuration's, else the model's. */
    static ChatTemplate template(ServedModel served, ServerConfig config) {
        return served.chatTemplate() != null ? served.chatTemplate()
                : config.chatTemplate() != null ? config.chatTemplate() : ChatTemplate.of(served.model());
    }

    /**
     * Builds it over {@code served}: the engine, its context prepared by the served model's setup
     * (LoRA adapters, control vectors), with {@code loraScales} the default adapters' scales in id
     * order when not null (those the server had before it slept); or the embedder. When
     * {@code ownsModel}, a failure closes the model too.
     */
    static Backend open(ServerContext base, ServedModel served, boolean ownsModel, List<Float> loraScales) {
        try {
            return build(base.withModel(served.model()), served, ownsModel, loraScales);
        } catch (RuntimeException | Error e) {
            if (ownsModel) {
                served.model().close();
            }
            throw e;
        }
    }

    private static Backend build(ServerContext context, ServedModel served, boolean ownsModel, List<Float> loraScales) {
        ServerConfig config = context.config();
        ChatTemplate template = template(served, config);
        if (config.mode() != ServerMode.COMPLETION) {
            EmbeddingApi embeddings = new EmbeddingApi(context, config.mode() == ServerMode.RERANK);
            return new Backend(null, embeddings, null, new LoraApi(context, null), context, served, template, ownsModel);
        }
        Model model = served.model();
        Projector projector = served.projector();
        Consumer<? super org.llamajava.Context> setup = served.contextSetup();
        BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(config.slots())
                .contextSize(config.contextSize()).batchSize(Math.max(config.batchSize(), config.slots()))
                .threads(config.threads()).maxQueue(config.maxQueue()).promptCacheBytes(config.promptCacheBytes())
                .overflow(overflow(model, config, projector != null)).unifiedKv(config.kvUnified())
                .cacheIdleSlots(config.cacheIdleSlots()).build(), setup);
        try {
            if (config.contextShift() && projector == null && !engine.contextShift()) {
                LOG.warning("--context-shift is off: this model's memory cannot shift positions");
            }
            if (loraScales != null) {
                // by id: a model loaded again has adapters loaded again, in the same order
                Map<LoraAdapter, Float> scales = new LinkedHashMap<>();
                int i = 0;
                for (LoraAdapter a : engine.loraAdapters().keySet()) {
                    scales.put(a, i < loraScales.size() ? loraScales.get(i) : 0f);
                    i++;
                }
                engine.setLoraAdapters(scales);
            }
            LoraApi loras = new LoraApi(context, engine);
            return new Backend(engine, null, new GenerationApi(context, engine, template, projector, loras), loras,
                    context, served, template, ownsModel);
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

    /** The default LoRA scales in id order (empty without adapters or engine). */
    List<Float> loraScales() {
        return loras.defaultScales();
    }

    /** Frees the engine's context, or the embedder; and the model (its projector, adapters) when it owns it. */
    @Override
    public void close() {
        try {
            if (engine != null) {
                engine.close();
            }
            if (embeddings != null) {
                embeddings.close();
            }
        } finally {
            if (ownsModel) {
                served.model().close();
            }
        }
    }
}
