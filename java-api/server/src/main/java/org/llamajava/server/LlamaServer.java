package org.llamajava.server;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.llamajava.Model;
import org.llamajava.Vocabulary;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.EngineParams;
import org.llamajava.batch.EngineStats;
import org.llamajava.chat.ChatTemplate;

/**
 * An OpenAI-compatible HTTP server over one {@link Model}.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("model.gguf"));
 *      LlamaServer server = LlamaServer.start(model, ServerConfig.builder().port(8080).slots(4).build())) {
 *     server.awaitClosed(); // until close(), e.g. from a shutdown hook
 * }
 * }</pre>
 *
 * <p>Endpoints: {@code POST /v1/chat/completions} and {@code POST /v1/completions} (also without
 * {@code /v1}; {@code "stream": true} for server-sent events), {@code POST /infill} (llama-server's
 * fill-in-the-middle request, answered as {@code /v1/completions}), {@code POST /v1/embeddings},
 * {@code POST /v1/rerank} (also {@code /rerank}), {@code GET /v1/models}, {@code POST /tokenize},
 * {@code POST /detokenize}, {@code GET /health}, {@code GET /metrics} (Prometheus), llama-server's
 * conversation streams ({@code GET} and {@code DELETE /v1/stream}, {@code POST /v1/streams/lookup}:
 * see docs/server.md), and
 * llama-server's {@code GET} and {@code POST /lora-adapters} (the adapters of the context setup,
 * see {@link #start(Model, ServerConfig, org.llamajava.multimodal.Projector, java.util.function.Consumer)};
 * generation requests also take llama-server's per-request {@code "lora"} field). Which of
 * generation, embeddings and reranking it serves is {@link ServerConfig#mode()}. Errors are
 * OpenAI's JSON shape, {@code {"error": {"message", "type", "param", "code"}}}, with a 4xx status
 * for a bad request, and the server keeps serving.
 *
 * <p>Generation runs on a {@link BatchEngine}: {@link ServerConfig#slots()} requests at once in
 * one decode per step, a new request reusing the slot whose cache shares the longest prefix with
 * its prompt. A request naming another model in {@code "model"} is served by this one, as
 * llama-server does; responses name this model.
 *
 * <p>Security: see {@link ServerConfig}; API keys are compared in constant time. A streamed
 * request whose client leaves is cancelled, freeing its slot. {@link #close()} stops taking
 * requests (503), lets running ones finish for {@link ServerConfig#drainTimeout()}, cancels the
 * rest, and stops.
 */
public final class LlamaServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LlamaServer.class.getName());
    private static final Set<String> PUBLIC = Set.of("/health", "/v1/health");

    private final ServerConfig config;
    private final ServerContext context;
    /** Loads the model again on waking: the caller's model again when the caller owns it. */
    private final java.util.function.Supplier<ServedModel> loader;
    /** Whether the server closes its model when it sleeps and closes (started with a loader). */
    private final boolean ownsModel;
    /** What {@code /v1/models} and {@code /props} say of the model, read once (they answer while it sleeps). */
    private final String modelPath;
    private final ObjectNode modelMeta;
    private final String templateText;
    /** What the server holds of its model while awake (null while it sleeps), and its users, under {@link #wake}. */
    private final Object wake = new Object();
    private volatile Backend backend;
    private int users;
    private long lastUse = System.nanoTime();
    /** Set by {@link #close()}: nothing wakes it any more (under {@link #wake}). */
    private boolean released;
    /** The counters of the engines that sleeping closed (their sum), and the LoRA scales the last one had. */
    private EngineStats retired;
    private java.util.List<Float> sleptScales;
    /** A slot's tokens, as the first engine had them (an engine built on waking has the same). */
    private final int tokensPerSlot;
    /** Puts the server to sleep after {@link ServerConfig#sleepIdle()} without requests; null when it never sleeps. */
    private java.util.concurrent.ScheduledExecutorService sleeper;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final byte[] keyDigest;
    private final CorsPolicy cors;
    private final long created = System.currentTimeMillis() / 1000;
    private volatile boolean draining;
    private boolean closing;
    private Javalin app;
    /** OpenTelemetry spans per request, or null without OpenTelemetry on the classpath. */
    private final ServerTracing.Wrapper tracing;

    private LlamaServer(ServedModel first, java.util.function.Supplier<ServedModel> loader, boolean ownsModel,
                        ServerConfig config) {
        this.config = config;
        this.loader = loader;
        this.ownsModel = ownsModel;
        Model model = first.model();
        ObjectMapper mapper = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        String name = config.modelName() != null ? config.modelName()
                : model.path() == null ? "model" : model.path().getFileName().toString();
        ServerMetrics metrics = new ServerMetrics(inFlight::get);
        this.context = new ServerContext(config, model, name, "b-llama-java-" + digest(model.fingerprint()).substring(0, 12),
                mapper, metrics, new ConversationStreams());
        this.keyDigest = config.apiKey() == null ? null : sha256(config.apiKey());
        this.cors = new CorsPolicy(config.corsOrigins());
        this.modelPath = model.path() == null ? "" : model.path().toString();
        this.modelMeta = OpenAiFormat.F.objectNode();
        modelMeta.put("n_vocab", model.vocabulary().size());
        modelMeta.put("n_ctx_train", model.trainingContextLength());
        modelMeta.put("n_embd", model.embeddingSize());
        modelMeta.put("n_params", model.parameterCount());
        modelMeta.put("size", model.sizeBytes());
        ChatTemplate t = first.chatTemplate() != null ? first.chatTemplate() : config.chatTemplate();
        this.templateText = t == null ? "" : t.toString();
        Backend b = Backend.open(context, first, ownsModel, null);
        this.backend = b;
        if (b.engine != null) {
            this.tokensPerSlot = b.engine.tokensPerSlot();
            metrics.engine(this::engineStats);
        } else {
            this.tokensPerSlot = config.contextSize();
            metrics.embedder(() -> {
                Backend now = backend;
                return now == null ? 0 : now.embeddings.queued();
            });
        }
        this.tracing = ServerTracing.start(b.engine, name);
    }

    /**
     * The server's backend for a request, built again if the server sleeps (llama-server's
     * wake-up); {@link #leave()} after the request.
     */
    private Backend enter() {
        synchronized (wake) {
            if (released) {
                throw ApiException.unavailable("the server is shutting down");
            }
            Backend b = backend;
            if (b == null) {
                LOG.info("waking up: " + (ownsModel ? "loading the model and building the " : "building the ")
                        + (config.mode() == ServerMode.COMPLETION ? "batching engine" : "embedder") + " again");
                ServedModel m = loader.get();
                if (m == null) {
                    throw new IllegalStateException("the model loader gave no model");
                }
                b = Backend.open(context, m, ownsModel, sleptScales);
                if (b.engine != null) {
                    ServerTracing.start(b.engine, context.modelName()); // the new engine's spans
                }
                backend = b;
            }
            users++;
            return b;
        }
    }

    private void leave() {
        synchronized (wake) {
            users--;
            lastUse = System.nanoTime();
        }
    }

    /** An endpoint that needs the model's engine or embedder: it wakes the server, as llama-server's do. */
    private Handler awake(java.util.function.Function<Backend, Handler> route) {
        return ctx -> {
            Backend b = enter();
            try {
                route.apply(b).handle(ctx);
            } finally {
                leave();
            }
        };
    }

    /** Goes to sleep if nothing has used the backend for {@link ServerConfig#sleepIdle()} (the sleeper's thread). */
    private void sleepIfIdle() {
        synchronized (wake) {
            Backend b = backend;
            if (b == null || released) {
                return;
            }
            long now = System.nanoTime();
            if (users > 0 || b.busy()) {
                lastUse = now;
                return;
            }
            if (now - lastUse < config.sleepIdle().toNanos()) {
                return;
            }
            if (b.engine != null) {
                retired = plus(retired, b.engine.stats());
                sleptScales = b.loraScales();
            }
            try {
                b.close();
            } finally {
                backend = null; // after: whoever sees it sleeping sees the model closed
            }
            LOG.info("sleeping: the " + (b.engine != null ? "batching engine's context" : "embedder")
                    + (ownsModel ? " and the model are" : " is") + " freed until the next request");
        }
    }

    /** Whether the server sleeps now ({@link ServerConfig#sleepIdle()}): the next request that needs the model wakes it. */
    public boolean isSleeping() {
        return backend == null && !closing;
    }

    /** Counters summed over engines (the current one's gauges and prompt cache); {@code a} may be null. */
    private static EngineStats plus(EngineStats a, EngineStats b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return new EngineStats(a.slots(), 0, 0, a.completed(), a.promptTokensEvaluated(), a.promptTokensCached(),
                    a.tokensGenerated(), a.decodes(), 0, 0, a.promptCacheRestores());
        }
        return new EngineStats(b.slots(), b.activeSlots(), b.queued(), a.completed() + b.completed(),
                a.promptTokensEvaluated() + b.promptTokensEvaluated(), a.promptTokensCached() + b.promptTokensCached(),
                a.tokensGenerated() + b.tokensGenerated(), a.decodes() + b.decodes(), b.promptCacheEntries(),
                b.promptCacheBytes(), a.promptCacheRestores() + b.promptCacheRestores());
    }

    /**
     * Starts serving {@code model} (which the caller keeps and closes after the server).
     *
     * @throws IllegalStateException if the port cannot be bound, or the model cannot serve the mode
     * @throws IllegalArgumentException for a reranking server over a model that is not a reranker
     */
    public static LlamaServer start(Model model, ServerConfig config) {
        return start(model, config, null);
    }

    /**
     * Starts serving {@code model} with a projector for images: {@code /v1/chat/completions} then
     * reads OpenAI {@code image_url} content parts whose URL is a {@code data:} URL (base64; remote
     * URLs are refused, never fetched). Requests with images go through the batching engine like
     * the others, answered whole (not streamed), with {@code n} 1. The caller
     * keeps and closes the projector (with the model) after the server.
     *
     * @param projector loaded for {@code model}, or null for none
     */
    public static LlamaServer start(Model model, ServerConfig config, org.llamajava.multimodal.Projector projector) {
        return start(model, config, projector, null);
    }

    /**
     * Starts serving {@code model} with a projector (or null) and a setup of the generation
     * context: {@code contextSetup} runs once on the batching engine's context before the server
     * takes requests, so what it applies holds for every slot, e.g. LoRA adapters and a control
     * vector, as llama-server's {@code --lora} and {@code --control-vector} do:
     *
     * <pre>{@code
     * LoraAdapter style = LoraAdapter.load(model, Path.of("style-lora.gguf")); // closed with the model
     * LlamaServer server = LlamaServer.start(model, config, null, ctx -> ctx.setLoraAdapter(style, 1f));
     * }</pre>
     *
     * It must not keep the context. An exception it throws stops the start and reaches the caller.
     * The LoRA adapters it applies (at any scale, 0 included) are the ones {@code GET /lora-adapters}
     * lists and requests name in {@code "lora"}, with ids in the order it applied them: give
     * {@code setLoraAdapters} an ordered map (a {@code LinkedHashMap}), not {@code Map.of}.
     *
     * @param contextSetup null for none; only for a {@link ServerMode#COMPLETION} server
     * @throws IllegalArgumentException also for a setup on an embedding or rerank server
     */
    public static LlamaServer start(Model model, ServerConfig config, org.llamajava.multimodal.Projector projector,
                                    java.util.function.Consumer<? super org.llamajava.Context> contextSetup) {
        if (model == null || config == null) {
            throw new IllegalArgumentException("model and config are required; e.g. ServerConfig.defaults()");
        }
        ServedModel served = new ServedModel(model, null, projector, contextSetup);
        check(served, config);
        return start(served, () -> served, false, config);
    }

    /**
     * Starts a server that owns its model: {@code loader} loads it now, and again on each waking
     * when the server sleeps ({@link ServerConfig#sleepIdle()}); the server closes the model, and
     * with it its projector and LoRA adapters, when it goes to sleep and when it closes, as
     * llama-server unloads its model while it sleeps. The loader runs on a request's thread on
     * waking (that request waits for it; an exception it throws fails that request with 500 and
     * the server sleeps on); each call must load the same model with the same adapters, in the
     * same order.
     *
     * @param loader loads the model and what depends on it (see {@link ServedModel})
     * @throws IllegalStateException if the port cannot be bound, or the model cannot serve the mode
     * @throws IllegalArgumentException for a projector or context setup on a server that does not
     *     generate, or a reranking server over a model that is not a reranker (the model is closed then)
     */
    public static LlamaServer start(java.util.function.Supplier<ServedModel> loader, ServerConfig config) {
        if (loader == null || config == null) {
            throw new IllegalArgumentException("loader and config are required; e.g. ServerConfig.defaults()");
        }
        ServedModel first = loader.get();
        if (first == null) {
            throw new IllegalArgumentException("the model loader gave no model");
        }
        try {
            check(first, config);
        } catch (RuntimeException e) {
            first.model().close();
            throw e;
        }
        return start(first, loader, true, config);
    }

    private static void check(ServedModel served, ServerConfig config) {
        if (served.projector() != null && config.mode() != ServerMode.COMPLETION) {
            throw new IllegalArgumentException("a projector needs a completion server, not " + config.mode());
        }
        if (served.contextSetup() != null && config.mode() != ServerMode.COMPLETION) {
            throw new IllegalArgumentException("a context setup (LoRA adapters, control vectors) applies to generation;"
                    + " this server is started for " + config.mode());
        }
    }

    private static LlamaServer start(ServedModel first, java.util.function.Supplier<ServedModel> loader,
                                     boolean ownsModel, ServerConfig config) {
        LlamaServer s = new LlamaServer(first, loader, ownsModel, config);
        try {
            s.app = s.createApp();
            s.app.start(firstHost(config.host()), config.port());
            s.listenAlsoOn(config.host().split(","));
            if (config.sleepIdle() != null) {
                s.sleeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "llama-java-sleep");
                    t.setDaemon(true);
                    return t;
                });
                long every = Math.max(10, Math.min(250, config.sleepIdle().toMillis() / 4));
                s.sleeper.scheduleWithFixedDelay(s::sleepIfIdle, every, every, TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            s.release();
            throw new IllegalStateException("the server could not start on " + config.host() + ":" + config.port() + ": "
                    + e.getMessage(), e);
        }
        return s;
    }

    /** Open connections at most (more wait in the kernel's backlog). */
    static final int MAX_CONNECTIONS = 4096;
    /** A connection that sends nothing for this long (mid-request or between requests) is closed. */
    static final long IDLE_TIMEOUT_MS = 30_000;

    private Javalin createApp() {
        boolean generates = config.mode() == ServerMode.COMPLETION;
        boolean embeds = !generates;
        return Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.http.maxRequestSize = config.maxBodyBytes();
            cfg.http.compressionStrategy = CompressionStrategy.NONE;
            // bounded threads; a connection holds no thread until its request has arrived (Jetty reads headers
            // without one), so the connection limit is far above the threads: connections that send part of a
            // request and stall (slowloris) cannot crowd out a well-behaved client, and each is closed after
            // IDLE_TIMEOUT_MS without a byte; connections past the limit wait in the kernel's backlog
            int threads = config.workerThreads();
            cfg.jetty.threadPool = new QueuedThreadPool(threads, Math.min(8, threads), 60_000);
            cfg.jetty.modifyServer(server -> {
                server.setStopTimeout(0); // close() drains the requests itself; then connections just close
                server.addBean(new NetworkConnectionLimit(Math.max(MAX_CONNECTIONS, 2 * threads), server));
                server.addEventListener(new org.eclipse.jetty.util.component.LifeCycle.Listener() {
                    @Override
                    public void lifeCycleStarting(org.eclipse.jetty.util.component.LifeCycle event) {
                        for (org.eclipse.jetty.server.Connector c : server.getConnectors()) {
                            if (c instanceof org.eclipse.jetty.server.AbstractConnector a) {
                                a.setIdleTimeout(IDLE_TIMEOUT_MS);
                            }
                        }
                    }
                });
            });
            cfg.routes.before(this::gate);
            Handler noGeneration = ctx -> {
                throw ApiException.notSupported("this server was started for " + (config.mode() == ServerMode.RERANK
                        ? "reranking (--reranking): it serves /v1/rerank" : "embeddings (--embeddings): it serves"
                        + " /v1/embeddings") + "; start it without that flag to generate text");
            };
            for (String p : new String[] {"/v1/chat/completions", "/chat/completions"}) {
                cfg.routes.post(p, endpoint("/v1/chat/completions", generates ? awake(b -> b.generation::chat) : noGeneration));
            }
            cfg.routes.post("/v1/completions", endpoint("/v1/completions",
                    generates ? awake(b -> b.generation::completions) : noGeneration));
            // llama-server's native format: /completion, and /completions (the OpenAI format is under /v1)
            for (String p : new String[] {"/completion", "/completions"}) {
                cfg.routes.post(p, endpoint("/completion", generates ? awake(b -> b.generation::nativeCompletion) : noGeneration));
            }
            for (String p : new String[] {"/v1/responses", "/responses"}) {
                cfg.routes.post(p, endpoint("/v1/responses", generates ? awake(b -> b.generation::responses) : noGeneration));
            }
            cfg.routes.post("/v1/messages", endpoint("/v1/messages", generates ? awake(b -> b.generation::messages) : noGeneration));
            cfg.routes.post("/v1/messages/count_tokens", endpoint("/v1/messages/count_tokens",
                    generates ? awake(b -> b.generation::countTokens) : noGeneration));
            for (String p : new String[] {"/responses/input_tokens", "/v1/responses/input_tokens"}) {
                cfg.routes.post(p, endpoint("/v1/responses/input_tokens",
                        generates ? awake(b -> b.generation::responsesInputTokens) : noGeneration));
            }
            for (String p : new String[] {"/chat/completions/input_tokens", "/v1/chat/completions/input_tokens"}) {
                cfg.routes.post(p, endpoint("/chat/completions/input_tokens",
                        generates ? awake(b -> b.generation::chatInputTokens) : noGeneration));
            }
            cfg.routes.post("/infill", endpoint("/infill", generates ? awake(b -> b.generation::infill) : noGeneration));
            cfg.routes.post("/apply-template", endpoint("/apply-template",
                    generates ? awake(b -> b.generation::applyTemplate) : noGeneration));
            Handler noEmbeddings = ctx -> {
                throw ApiException.notSupported("this server generates text: start it with --embeddings (and an"
                        + " embedding model) for /v1/embeddings, or with --reranking for /v1/rerank");
            };
            cfg.routes.post("/v1/embeddings", endpoint("/v1/embeddings",
                    embeds ? awake(b -> b.embeddings::embeddings) : noEmbeddings));
            cfg.routes.post("/embeddings", endpoint("/embeddings",
                    embeds ? awake(b -> b.embeddings::nativeEmbeddings) : noEmbeddings));
            for (String p : new String[] {"/v1/rerank", "/rerank"}) {
                cfg.routes.post(p, endpoint("/v1/rerank", embeds ? awake(b -> b.embeddings::rerank) : noEmbeddings));
            }
            cfg.routes.get("/lora-adapters", endpoint("/lora-adapters", awake(b -> b.loras::list)));
            cfg.routes.post("/lora-adapters", endpoint("/lora-adapters", awake(b -> b.loras::set)));
            cfg.routes.get("/v1/models", endpoint("/v1/models", this::models));
            cfg.routes.get("/models", endpoint("/v1/models", this::models));
            cfg.routes.post("/tokenize", endpoint("/tokenize", awake(b -> ctx -> tokenize(ctx, b))));
            cfg.routes.post("/detokenize", endpoint("/detokenize", awake(b -> ctx -> detokenize(ctx, b))));
            cfg.routes.get("/props", endpoint("/props", this::props));
            cfg.routes.get("/health", endpoint("/health", this::health));
            cfg.routes.get("/v1/health", endpoint("/health", this::health));
            cfg.routes.get("/metrics", endpoint("/metrics", ctx -> {
                if (!config.metricsEndpoint()) {
                    throw ApiException.notSupported("this server does not serve /metrics: start it with --metrics");
                }
                ctx.header("Process-Start-Time-Unix", Long.toString(created)); // as llama-server
                ctx.contentType(ServerMetrics.CONTENT_TYPE).result(context.metrics().scrape());
            }));
            cfg.routes.get("/slots", endpoint("/slots", awake(b -> ctx -> slots(ctx, b))));
            cfg.routes.post("/slots/{id}", endpoint("/slots", awake(b -> ctx -> slotAction(ctx, b))));
            // llama-server's conversation streams (X-Conversation-Id): resume, stop, look up
            ConversationStreams streams = context.streams();
            cfg.routes.get("/v1/stream", endpoint("/v1/stream", streams::resume));
            cfg.routes.delete("/v1/stream", endpoint("/v1/stream", ctx -> streams.stop(ctx)));
            cfg.routes.post("/v1/streams/lookup", endpoint("/v1/streams/lookup", ctx -> streams.lookup(ctx, context)));
            if (config.vertexPredict() != null) {
                VertexPredictRoute predict = new VertexPredictRoute(context.mapper(), config.maxBodyBytes(), this::baseUrl);
                cfg.routes.post(config.vertexPredict().predictRoute(), endpoint("/predict", predict::handle));
                if (config.vertexPredict().healthRoute() != null) {
                    cfg.routes.get(config.vertexPredict().healthRoute(), endpoint("/health", this::health));
                }
            }
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                answer(ctx, e);
                context.metrics().request("other", ctx.statusCode(), 0);
            });
            cfg.routes.error(404, ctx -> {
                if (ctx.attribute("llamajava.answered") == null) {
                    answer(ctx, ApiException.notFound("no endpoint " + ctx.method() + " " + ctx.path()
                            + ": see docs/server.md for the endpoints"));
                }
            });
        });
    }

    /** Refuses requests while stopping (503) and without the API key (401). */
    private void gate(Context ctx) {
        if (cors.apply(ctx)) { // a preflight: browsers send no API key with it (as llama-server)
            ctx.status(200).result("");
            ctx.skipRemainingHandlers();
            return;
        }
        if (draining && !ctx.path().equals("/metrics")) {
            throw ApiException.unavailable("the server is shutting down");
        }
        if (keyDigest != null && !PUBLIC.contains(ctx.path())) {
            String h = ctx.header("Authorization");
            String given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).strip() : "";
            String apiKey = ctx.header("X-Api-Key"); // Anthropic's clients send the key so; llama-server takes it too
            if (given.isEmpty() && apiKey != null) {
                given = apiKey.strip();
            }
            if (!MessageDigest.isEqual(sha256(given), keyDigest)) {
                ctx.header("WWW-Authenticate", "Bearer");
                throw ApiException.unauthorized();
            }
        }
    }

    /**
     * The endpoints that monitor the server: not counted in its request metrics, so that reading
     * them changes nothing they report (as llama-server's /metrics, which has no HTTP counters).
     */
    private static final Set<String> MONITORING = Set.of("/metrics", "/props", "/health");

    /** Wraps an endpoint: counts it in flight, answers its errors, records its metrics. */
    private Handler endpoint(String name, Handler h) {
        if (MONITORING.contains(name)) {
            Handler plain = ctx -> {
                try {
                    h.handle(ctx);
                } catch (Exception e) {
                    answer(ctx, e);
                }
            };
            return tracing == null ? plain : tracing.wrap(name, plain);
        }
        Handler handler = ctx -> {
            long t0 = System.nanoTime();
            inFlight.incrementAndGet();
            try {
                h.handle(ctx);
            } catch (Exception e) {
                answer(ctx, e);
            } finally {
                inFlight.decrementAndGet();
                context.metrics().request(name, ctx.statusCode(), (System.nanoTime() - t0) / 1e9);
            }
        };
        return tracing == null ? handler : tracing.wrap(name, handler);
    }

    /** Writes an error in OpenAI's shape: 4xx for bad requests, 503 with Retry-After when busy, 500 for our own failures. */
    private void answer(Context ctx, Exception e) {
        ApiException a;
        if (e instanceof ApiException x) {
            a = x;
        } else if (e instanceof HttpResponseException x) {
            a = new ApiException(x.getStatus(), x.getStatus() < 500 ? "invalid_request_error" : "server_error", null, null,
                    x.getMessage());
        } else if (e instanceof IllegalArgumentException) {
            a = ApiException.invalid(e.getMessage());
        } else {
            LOG.log(Level.WARNING, "request " + ctx.method() + " " + ctx.path() + " failed", e);
            a = new ApiException(500, "server_error", null, null, "the server failed: " + e);
        }
        if (ctx.res().isCommitted()) {
            return; // a stream already started; it ends with its own error event
        }
        if (a.status == 503) {
            ctx.header("Retry-After", "1");
        }
        ctx.attribute("llamajava.answered", true);
        ctx.status(a.status).contentType("application/json").result(context.json(a.body()));
    }

    private void models(Context ctx) {
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("object", "list");
        ObjectNode e = o.putArray("data").addObject();
        e.put("id", context.modelName());
        e.put("object", "model");
        e.put("created", created);
        e.put("owned_by", "llama-java");
        ArrayNode aliases = e.putArray("aliases");
        config.modelAliases().forEach(aliases::add);
        ArrayNode tags = e.putArray("tags");
        config.modelTags().forEach(tags::add);
        ObjectNode meta = e.putObject("meta");
        meta.setAll(modelMeta);
        meta.put("mode", config.mode().name().toLowerCase(java.util.Locale.ROOT));
        if (config.mode() == ServerMode.COMPLETION) {
            meta.put("slots", config.slots());
            meta.put("n_ctx_slot", tokensPerSlot);
        }
        ctx.contentType("application/json").result(context.json(o));
    }

    /**
     * llama-server's {@code GET /props}: the model's path and alias, the slots, the default
     * generation settings (a slot's context, and the server's default sampling), the chat template.
     */
    private void props(Context ctx) {
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("model_path", modelPath);
        o.put("model_alias", context.modelName());
        o.put("total_slots", config.mode() == ServerMode.COMPLETION ? config.slots() : 1);
        ObjectNode gs = o.putObject("default_generation_settings");
        gs.put("n_ctx", tokensPerSlot);
        ObjectNode params = gs.putObject("params");
        org.llamajava.SamplingSettings s = config.sampling();
        params.put("seed", s.seed());
        params.put("temperature", s.temperature());
        params.put("top_k", s.topK());
        params.put("top_p", s.topP());
        params.put("min_p", s.minP());
        params.put("repeat_last_n", s.penaltyLastN());
        params.put("repeat_penalty", s.repeatPenalty());
        params.put("presence_penalty", s.presencePenalty());
        params.put("frequency_penalty", s.frequencyPenalty());
        params.put("n_predict", config.maxTokens() > 0 ? config.maxTokens() : -1);
        o.put("chat_template", templateText);
        o.put("build_info", context.fingerprint());
        o.put("is_sleeping", isSleeping()); // llama-server's: --sleep-idle-seconds
        ctx.contentType("application/json").result(context.json(o));
    }

    /**
     * llama-server's {@code GET /slots}: each slot's id, its tokens ({@code n_ctx}), whether it
     * generates; 501 when started without the endpoint ({@code --no-slots}).
     */
    private void slots(Context ctx, Backend backend) {
        BatchEngine engine = backend.engine;
        if (!config.slotsEndpoint()) {
            throw ApiException.notSupported("this server does not serve /slots: start it with --slots");
        }
        ArrayNode a = OpenAiFormat.F.arrayNode();
        if (engine != null) {
            boolean[] busy = engine.busySlots();
            for (int i = 0; i < busy.length; i++) {
                ObjectNode s = a.addObject();
                s.put("id", i);
                s.put("n_ctx", engine.tokensPerSlot());
                s.put("is_processing", busy[i]);
            }
        }
        ctx.contentType("application/json").result(context.json(a));
    }

    /** A slot file's name: letters, digits, dot, dash, underscore; no path, no leading dot. */
    private static final java.util.regex.Pattern SLOT_FILE = java.util.regex.Pattern.compile("[A-Za-z0-9_\\-][A-Za-z0-9_.\\-]{0,254}");

    /**
     * llama-server's {@code POST /slots/ID?action=save|restore|erase}: save and restore take
     * {@code {"filename"}}, a plain name inside {@link ServerConfig#slotSavePath()} (no folder, no
     * {@code ..}: no path escapes it); erase empties the slot's cache. 501 without a save path
     * (save, restore) or on a server that does not generate; 400 for a busy slot or a bad file.
     */
    private void slotAction(Context ctx, Backend backend) {
        BatchEngine engine = backend.engine;
        if (engine == null) {
            throw ApiException.notSupported("this server does not generate, so it has no slots");
        }
        int id;
        try {
            id = Integer.parseInt(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            throw ApiException.invalid("id_slot", "the slot id must be a number, not '" + ctx.pathParam("id") + "'");
        }
        if (id < 0 || id >= engine.params().slots()) {
            throw ApiException.invalid("id_slot", "no slot " + id + ": this server has slots 0 to "
                    + (engine.params().slots() - 1));
        }
        String action = ctx.queryParam("action");
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("id_slot", id);
        long t0 = System.nanoTime();
        if ("erase".equals(action)) {
            o.put("n_erased", await(engine.eraseSlot(id)));
            ctx.contentType("application/json").result(context.json(o));
            return;
        }
        if (!"save".equals(action) && !"restore".equals(action)) {
            throw ApiException.invalid("action", "'action' must be save, restore or erase, not " + action);
        }
        if (config.slotSavePath() == null) {
            throw ApiException.notSupported("this server does not save or restore slots: start it with --slot-save-path");
        }
        JsonBody b = context.read(ctx);
        String name = b.requireString("filename");
        if (!SLOT_FILE.matcher(name).matches() || name.contains("..")) {
            throw ApiException.invalid("filename", "'filename' must be a plain file name (letters, digits, '.', '-',"
                    + " '_'; no folder, no '..')");
        }
        java.nio.file.Path file = config.slotSavePath().resolve(name);
        o.put("filename", name);
        if (action.equals("save")) {
            org.llamajava.batch.SlotSave s = await(engine.saveSlot(id, file));
            o.put("n_saved", s.tokens());
            o.put("n_written", s.bytes());
            o.putObject("timings").put("save_ms", (System.nanoTime() - t0) / 1e6);
        } else {
            if (!java.nio.file.Files.isRegularFile(file)) {
                throw ApiException.invalid("filename", "no saved slot named " + name);
            }
            org.llamajava.batch.SlotSave s = await(engine.restoreSlot(id, file));
            o.put("n_restored", s.tokens());
            o.put("n_read", s.bytes());
            o.putObject("timings").put("restore_ms", (System.nanoTime() - t0) / 1e6);
        }
        ctx.contentType("application/json").result(context.json(o));
    }

    /** A slot action's result: 400 for a busy slot or a bad file, 500 for a failed write. */
    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IllegalStateException || c instanceof IllegalArgumentException) {
                throw ApiException.invalid(c.getMessage());
            }
            if (c instanceof java.util.concurrent.CancellationException) {
                throw ApiException.unavailable("the server is shutting down");
            }
            throw new IllegalStateException("the slot action failed: " + c.getMessage(), c);
        }
    }

    /** llama-server's {@code /tokenize}: {@code content}, {@code add_special} (false), {@code parse_special} (true), {@code with_pieces} (false). */
    private void tokenize(Context ctx, Backend backend) {
        JsonBody b = context.read(ctx);
        String text = b.requireString("content");
        Vocabulary vocab = backend.served.model().vocabulary();
        int[] tokens = vocab.tokenize(text, b.bool("add_special", false), b.bool("parse_special", true));
        boolean pieces = b.bool("with_pieces", false);
        ObjectNode o = OpenAiFormat.F.objectNode();
        ArrayNode a = o.putArray("tokens");
        for (int t : tokens) {
            if (pieces) {
                ObjectNode p = a.addObject();
                p.put("id", t);
                p.put("piece", vocab.tokenPiece(t));
            } else {
                a.add(t);
            }
        }
        ctx.contentType("application/json").result(context.json(o));
    }

    /** llama-server's {@code /detokenize}: {@code tokens} to {@code content}. */
    private void detokenize(Context ctx, Backend backend) {
        JsonBody b = context.read(ctx);
        JsonNode v = b.get("tokens");
        if (v == null || !v.isArray()) {
            throw ApiException.invalid("tokens", "'tokens' is required: an array of token ids");
        }
        Vocabulary vocab = backend.served.model().vocabulary();
        int[] ids = new int[v.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) JsonBody.integer("tokens", v.get(i), 0, vocab.size() - 1);
        }
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("content", vocab.detokenize(ids, false, true));
        ctx.contentType("application/json").result(context.json(o));
    }

    private void health(Context ctx) {
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("status", "ok");
        ctx.contentType("application/json").result(context.json(o));
    }

    /** The port the server listens on. */
    public int port() {
        return app.port();
    }

    /** {@code http://HOST:PORT}, for clients. */
    public String baseUrl() {
        String first = firstHost(config.host());
        String h = first.contains(":") ? "[" + first + "]" : first;
        return "http://" + h + ":" + port();
    }

    /** The configuration it runs with. */
    public ServerConfig config() {
        return config;
    }

    /** The name responses give the model. */
    public String modelName() {
        return context.modelName();
    }

    /** The batching engine's counters, or null when the server does not generate (embedding or rerank mode). */
    public EngineStats engineStats() {
        if (config.mode() != ServerMode.COMPLETION) {
            return null;
        }
        synchronized (wake) {
            Backend b = backend;
            return plus(retired, b == null || b.engine == null ? null : b.engine.stats());
        }
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /**
     * Stops gracefully: new requests get 503, running ones have {@link ServerConfig#drainTimeout()}
     * to finish, the rest are cancelled (a stream ends with an error event, a blocking request
     * gets 503), then the HTTP server stops. Idempotent; the model stays open, unless the server
     * loaded it ({@link #start(java.util.function.Supplier, ServerConfig)}): then it is closed.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                awaitQuietly();
                return;
            }
            closing = true;
        }
        try {
            draining = true;
            waitForInFlight(config.drainTimeout().toMillis());
            release();
            waitForInFlight(5_000);
            if (app != null) {
                try {
                    app.stop();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "stopping the HTTP server failed", e);
                }
            }
        } finally {
            closed.countDown();
        }
    }

    private void release() {
        if (sleeper != null) {
            sleeper.shutdownNow();
        }
        context.streams().close(); // their readers get the end
        synchronized (wake) {
            released = true;
            Backend b = backend;
            backend = null;
            if (b != null) {
                if (b.engine != null) {
                    retired = plus(retired, b.engine.stats());
                }
                b.close();
            }
        }
    }

    private void waitForInFlight(long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void awaitQuietly() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * llama-server's {@code --host A,B}: one listener per further address, on the same port
     * (added once the server runs: Javalin binds its own connector to the first address).
     */
    private void listenAlsoOn(String[] hosts) {
        org.eclipse.jetty.server.Server server = app.jettyServer().server();
        for (int i = 1; i < hosts.length; i++) {
            org.eclipse.jetty.server.ServerConnector more = new org.eclipse.jetty.server.ServerConnector(server);
            more.setHost(hosts[i].strip());
            more.setPort(port());
            more.setIdleTimeout(IDLE_TIMEOUT_MS);
            server.addConnector(more);
            try {
                more.start();
            } catch (Exception e) {
                throw new IllegalStateException("cannot listen on " + hosts[i].strip() + ":" + port() + ": " + e.getMessage(), e);
            }
        }
    }

    /** The first of the comma-separated hosts (the one {@link #baseUrl()} names). */
    private static String firstHost(String hosts) {
        return hosts.split(",")[0].strip();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static String digest(String s) {
        return HexFormat.of().formatHex(sha256(s));
    }
}
