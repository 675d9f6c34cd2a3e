package org.llamajava.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * llama-server's router mode for {@code serve} without {@code -m}: it lists the models of a
 * {@link RouterCatalog}, starts a model on its first request (or {@code POST /models/load}) as a child
 * process, {@code serve -m FILE} of the same JVM and jar on a loopback port with a key of its own, and
 * forwards each request to the child its {@code "model"} (or {@code ?model=}) names, streams included.
 * At most {@code --models-max} children run; a request for another model waits in a FIFO queue (requests
 * for one model share one place) until an idle model can be stopped, the least recently used first; a
 * model serving a request is never stopped. A child that dies is listed as unloaded (failed, with its exit
 * code) and the router goes on serving the others.
 *
 * <p>Why child processes and not an engine per model in this JVM: llama.cpp aborts the whole process on a
 * failed assertion (GGML_ASSERT) or an out-of-memory in a backend, which no Java code can catch; in a
 * child it takes down that model alone, as in llama-server's router. A child also gives back all of its
 * native memory (weights, KV cache, backend buffers) when it is stopped, with no leak or fragmentation
 * left in the router. The price is a JVM start (about a second) per load and a loopback hop per request.
 */
final class ModelRouter implements AutoCloseable {
    /** What a model is doing, as llama-server's {@code status.value} says it. */
    enum Status { UNLOADED, LOADING, LOADED }

    /** The router's settings. */
    record Settings(String host, int port, String apiKey, List<String> corsOrigins, int modelsMax, boolean autoload,
                    Path modelsDir, Path preset, List<String> childArgs, List<String> childCommand, int maxThreads,
                    int maxQueue) {}

    /** One model and its child, when it has one. Guarded by the router's monitor. */
    private static final class Instance {
        RouterCatalog.Entry entry;
        Status status = Status.UNLOADED;
        Process process;
        int port;
        int requests;
        long lastUsed;
        int exitCode;
        boolean stopping;
        boolean stopRequested;
        List<String> args = List.of();

        Instance(RouterCatalog.Entry entry) {
            this.entry = entry;
        }

        boolean running() {
            return status != Status.UNLOADED;
        }
    }

    /** A queued request's place: all requests for one model share it. */
    private static final class Waiting {
        final String model;
        int waiters = 1;
        boolean loading;

        Waiting(String model) {
            this.model = model;
        }
    }

    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+) ");
    private static final Set<String> PUBLIC = Set.of("/health", "/v1/health");
    private static final Set<String> HOP = Set.of("host", "connection", "content-length", "expect", "upgrade",
            "authorization", "x-api-key", "transfer-encoding", "keep-alive", "te", "trailer", "proxy-authorization",
            "proxy-connection", "origin", "http2-settings");
    private static final long MAX_BODY = 64L << 20;
    /** {@code /models/sse} streams at once (each holds an HTTP thread). */
    static final int MAX_SSE = 16;
    /** Model downloads at once. */
    static final int MAX_DOWNLOADS = 4;
    /** The variable that gives a child the router's process id: it stops when that process ends. */
    static final String ROUTER_PID = "LLAMA_JAVA_ROUTER_PID";

    private final Settings settings;
    private final PrintStream err;
    private final ObjectMapper json = new ObjectMapper();
    private final String childKey;
    private final byte[] keyDigest;
    private final org.llamajava.server.CorsPolicy cors;
    private final boolean fakeTiming = System.getenv("LLAMA_SERVER_DEBUG_FAKE_TIMING") != null
            && !System.getenv("LLAMA_SERVER_DEBUG_FAKE_TIMING").isEmpty();
    private final Map<String, Instance> models = new TreeMap<>();
    private final List<Waiting> queue = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "llama-java-router-stop");
        t.setDaemon(true);
        return t;
    });
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Which model serves each conversation's stream (X-Conversation-Id). */
    private final ConversationOwners conversations = new ConversationOwners();
    private final long created = System.currentTimeMillis() / 1000;
    private Javalin app;
    private volatile boolean closing;
    /** {@code GET /models/sse}: load states, downloads, deletions. */
    private final RouterEvents events = new RouterEvents(json, MAX_SSE, 1024);
    /** {@code POST /models}, {@code DELETE /models}. */
    private final RouterDownloads downloads;
    private java.util.function.BinaryOperator<List<String>> mergeFlags = (a, b) -> {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    };

    private ModelRouter(Settings settings, PrintStream err) {
        this.settings = settings;
        this.err = err;
        byte[] k = new byte[24];
        new SecureRandom().nextBytes(k);
        this.childKey = "router-" + HexFormat.of().formatHex(k);
        this.keyDigest = settings.apiKey() == null ? null : sha256(settings.apiKey());
        this.cors = new org.llamajava.server.CorsPolicy(settings.corsOrigins());
        this.downloads = new RouterDownloads(org.llamajava.hub.ModelCache.fromEnvironment(settings.modelsDir()), events,
                new DownloadHost(), MAX_DOWNLOADS, json, err);
    }

    /** What {@link RouterDownloads} needs of the router; it calls in without holding the router's monitor. */
    private final class DownloadHost implements RouterDownloads.Host {
        @Override
        public RouterCatalog.Entry entry(String name) {
            synchronized (ModelRouter.this) {
                Instance i = models.get(name);
                return i == null ? null : i.entry;
            }
        }

        @Override
        public void stopAndWait(String name) {
            synchronized (ModelRouter.this) {
                Instance i = models.get(name);
                if (i == null) {
                    return;
                }
                if (i.running()) {
                    unloadModel(name, i);
                }
                while (i.running()) {
                    waitQuietly(200);
                }
            }
        }

        @Override
        public void reload() {
            ModelRouter.this.reload();
        }
    }

    /**
     * Reads the catalog and starts listening.
     *
     * @param settings the settings
     * @param err      where children's failures are reported
     * @param mergeFlags a preset's flags (first) with the router's own (second) put over them
     * @return the running router
     */
    static ModelRouter start(Settings settings, PrintStream err,
                             java.util.function.BinaryOperator<List<String>> mergeFlags) {
        ModelRouter r = new ModelRouter(settings, err);
        r.mergeFlags = mergeFlags;
        r.reload();
        r.app = r.createApp();
        try {
            r.app.start(settings.host(), settings.port());
        } catch (RuntimeException e) {
            r.killer.shutdownNow();
            throw new IllegalStateException("the router could not start on " + settings.host() + ":" + settings.port()
                    + ": " + e.getMessage(), e);
        }
        // a preset's load-on-startup (only at start, as llama-server: not for models a reload adds)
        List<String> atStart = new ArrayList<>();
        synchronized (r) {
            r.models.values().stream().filter(i -> i.entry.loadOnStartup()).forEach(i -> atStart.add(i.entry.name()));
        }
        for (String name : atStart) {
            Thread t = new Thread(() -> {
                try {
                    if (r.ensureReady(name, () -> r.closing)) {
                        synchronized (r) {
                            Instance i = r.models.get(name);
                            if (i != null) {
                                i.requests--; // ensureReady reserved it for a request: there is none
                            }
                            r.tick();
                            r.notifyAll();
                        }
                    }
                } catch (RuntimeException e) {
                    err.println("router: load-on-startup of " + name + " failed: " + e.getMessage());
                }
            }, "llama-java-router-startup-" + name);
            t.setDaemon(true);
            t.start();
        }
        return r;
    }

    /** The port it listens on. */
    int port() {
        return app.port();
    }

    /** {@code http://HOST:PORT}. */
    String baseUrl() {
        String h = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return "http://" + h + ":" + port();
    }

    /** How many models it lists. */
    synchronized int modelCount() {
        return models.size();
    }

    // ---- the catalog -----------------------------------------------------------------------

    /**
     * Reads the models folder and the preset again: models that are gone are stopped and removed,
     * new ones added; a running model whose entry changed is stopped (as llama-server's reload).
     */
    private void reload() {
        Map<String, RouterCatalog.Entry> read = RouterCatalog.read(settings.modelsDir(), settings.preset());
        synchronized (this) {
            for (var it = models.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Instance> e = it.next();
                RouterCatalog.Entry now = read.get(e.getKey());
                Instance inst = e.getValue();
                if (now == null) {
                    if (inst.running()) {
                        requestStop(e.getKey(), inst);
                    }
                    it.remove();
                } else if (!now.equals(inst.entry)) {
                    if (inst.running() && !sameLaunch(now, inst.entry)) {
                        requestStop(e.getKey(), inst);
                    }
                    inst.entry = now;
                }
            }
            for (RouterCatalog.Entry e : read.values()) {
                models.computeIfAbsent(e.name(), n -> new Instance(e));
            }
            notifyAll();
        }
        events.publish("models_reload", "*", null);
    }

    private static boolean sameLaunch(RouterCatalog.Entry a, RouterCatalog.Entry b) {
        return a.model().equals(b.model()) && a.args().equals(b.args());
    }

    // ---- HTTP ------------------------------------------------------------------------------

    private Javalin createApp() {
        return Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.http.maxRequestSize = MAX_BODY;
            cfg.http.compressionStrategy = io.javalin.compression.CompressionStrategy.NONE;
            int threads = settings.maxThreads() > 0 ? settings.maxThreads() : 64;
            cfg.jetty.threadPool = new QueuedThreadPool(threads, Math.min(8, threads), 60_000);
            cfg.routes.before(this::gate);
            cfg.routes.options("/*", ctx -> ctx.status(200));
            cfg.routes.get("/health", ctx -> ok(ctx, json.createObjectNode().put("status", "ok")));
            cfg.routes.get("/v1/health", ctx -> ok(ctx, json.createObjectNode().put("status", "ok")));
            cfg.routes.get("/props", ctx -> {
                if (param(ctx, "model").isEmpty()) {
                    ok(ctx, props());
                } else {
                    proxyGet(ctx);
                }
            });
            cfg.routes.get("/models", this::list);
            cfg.routes.get("/v1/models", this::list);
            cfg.routes.post("/models/load", this::load);
            cfg.routes.post("/models/unload", this::unload);
            cfg.routes.get("/v1/stream", this::streamGet);
            cfg.routes.delete("/v1/stream", this::streamDelete);
            cfg.routes.post("/v1/streams/lookup", this::streamLookup);
            cfg.routes.post("/models", ctx -> {
                downloads.start(bodyModel(ctx));
                ok(ctx, json.createObjectNode().put("success", true));
            });
            cfg.routes.delete("/models", ctx -> {
                downloads.remove(param(ctx, "model"));
                ok(ctx, json.createObjectNode().put("success", true));
            });
            cfg.routes.get("/models/sse", this::sse);
            cfg.routes.post("/*", this::proxyPost);
            cfg.routes.get("/*", this::proxyGet);
            cfg.routes.delete("/*", ctx -> proxyOther(ctx, "DELETE"));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                if (e instanceof RouterError r) {
                    error(ctx, r.status, r.type, r.getMessage());
                } else if (e instanceof io.javalin.http.HttpResponseException h) {
                    error(ctx, h.getStatus(), h.getStatus() < 500 ? "invalid_request_error" : "server_error",
                            h.getMessage());
                } else {
                    error(ctx, 500, "server_error", "the router failed: " + e);
                }
            });
        });
    }

    /** CORS (a preflight is answered here, without the key), then the API key (401), as {@code serve}'s own server. */
    private void gate(Context ctx) {
        if (cors.apply(ctx)) {
            ctx.status(200).result("");
            ctx.skipRemainingHandlers();
            return;
        }
        if (closing) {
            throw new RouterError(503, "unavailable_error", "the server is shutting down");
        }
        if (keyDigest != null && !PUBLIC.contains(ctx.path())) {
            String h = ctx.header("Authorization");
            String given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).strip() : "";
            String apiKey = ctx.header("X-Api-Key");
            if (given.isEmpty() && apiKey != null) {
                given = apiKey.strip();
            }
            if (!MessageDigest.isEqual(sha256(given), keyDigest)) {
                ctx.header("WWW-Authenticate", "Bearer");
                throw new RouterError(401, "authentication_error", "missing or wrong API key: send the header"
                        + " 'Authorization: Bearer KEY' with the key the server was started with");
            }
        }
    }

    private ObjectNode props() {
        ObjectNode o = json.createObjectNode();
        o.put("role", "router");
        o.put("max_instances", settings.modelsMax());
        o.put("models_autoload", settings.autoload());
        o.put("model_alias", "llama-server");
        o.put("model_path", "none");
        ObjectNode dgs = o.putObject("default_generation_settings");
        dgs.putObject("params");
        dgs.put("n_ctx", 0);
        o.putObject("ui_settings");
        o.put("build_info", "b-llama-java-" + VersionProvider.properties().getProperty("llama-java"));
        o.put("cors_proxy_enabled", false);
        return o;
    }

    private void list(Context ctx) {
        if (!param(ctx, "reload").isEmpty()) {
            reload();
        }
        ObjectNode o = json.createObjectNode();
        ArrayNode data = o.putArray("data");
        synchronized (this) {
            for (Map.Entry<String, Instance> e : models.entrySet()) {
                Instance inst = e.getValue();
                if (inst.entry.hidden()) {
                    continue;
                }
                ObjectNode m = listEntry(data, e.getKey(), created, inst.status.name().toLowerCase(Locale.ROOT));
                ObjectNode st = (ObjectNode) m.get("status");
                ArrayNode args = (ArrayNode) st.get("args");
                inst.args.forEach(args::add);
                if (inst.status == Status.UNLOADED && inst.exitCode != 0) {
                    st.put("exit_code", inst.exitCode);
                    st.put("failed", true);
                }
                m.put("source", inst.entry.source().name().toLowerCase(Locale.ROOT));
                m.put("can_remove", inst.entry.source() == RouterCatalog.Source.CACHE);
                m.put("path", inst.entry.model());
            }
        }
        downloads.list(data, created); // outside the router's monitor: the downloads lock first, then the router's
        o.put("object", "list");
        ok(ctx, o);
    }

    /**
     * One model of {@code GET /models}, in llama-server's shape: id, empty aliases and tags, status with
     * empty args, text in and out; the caller adds the source and what else it knows.
     */
    static ObjectNode listEntry(ArrayNode data, String id, long created, String status) {
        ObjectNode m = data.addObject();
        m.put("id", id);
        m.putArray("aliases");
        m.putArray("tags");
        m.put("object", "model");
        m.put("owned_by", "llamacpp");
        m.put("created", created);
        ObjectNode st = m.putObject("status");
        st.put("value", status);
        st.putArray("args");
        ObjectNode arch = m.putObject("architecture");
        arch.putArray("input_modalities").add("text");
        arch.putArray("output_modalities").add("text");
        return m;
    }

    /** {@code GET /models/sse}: the router's events until the client leaves; 503 past {@link #MAX_SSE} streams. */
    private void sse(Context ctx) {
        Runnable noIdleTimeout = () -> {
            try {
                // a stream may stay silent for long (the connection closes with the stream)
                org.eclipse.jetty.ee10.servlet.ServletContextRequest.getServletContextRequest(ctx.req())
                        .getConnectionMetaData().getConnection().getEndPoint().setIdleTimeout(0);
            } catch (RuntimeException e) {
                // the default idle timeout then ends a silent stream; the client reconnects
            }
        };
        if (!events.serve(ctx, noIdleTimeout, () -> closing || clientGone(ctx))) {
            throw new RouterError(503, "unavailable_error", "too many /models/sse streams are open (" + MAX_SSE
                    + "); try again later");
        }
    }

    private void load(Context ctx) {
        String name = bodyModel(ctx);
        Instance inst;
        synchronized (this) {
            inst = models.get(name);
            if (inst == null) {
                throw new RouterError(404, "not_found_error", "model is not found");
            }
            if (inst.running()) {
                throw RouterError.invalid("model is already running");
            }
        }
        try {
            loadModel(name);
        } catch (IllegalStateException e) {
            throw new RouterError(503, "unavailable_error", e.getMessage());
        }
        ok(ctx, json.createObjectNode().put("success", true));
    }

    private void unload(Context ctx) {
        String name = bodyModel(ctx);
        synchronized (this) {
            Instance inst = models.get(name);
            if (inst == null) {
                throw RouterError.invalid("model is not found");
            }
            if (!inst.running()) {
                throw RouterError.invalid("model is not running");
            }
            unloadModel(name, inst);
        }
        ok(ctx, json.createObjectNode().put("success", true));
    }

    private String bodyModel(Context ctx) {
        JsonNode n = body(ctx);
        JsonNode m = n.get("model");
        return m != null && m.isTextual() ? m.asText() : "";
    }

    private JsonNode body(Context ctx) {
        byte[] b = ctx.bodyAsBytes();
        if (b.length == 0) {
            throw RouterError.invalid("the request has no body: send a JSON object with \"model\"");
        }
        try {
            JsonNode n = json.readTree(b);
            if (n == null || !n.isObject()) {
                throw RouterError.invalid("the body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw RouterError.invalid("the body is not valid JSON: " + e.getMessage());
        }
    }

    private static String param(Context ctx, String name) {
        String v = ctx.queryParam(name);
        return v == null ? "" : v;
    }

    private boolean autoload(Context ctx) {
        String a = param(ctx, "autoload");
        return a.isEmpty() ? settings.autoload() : a.equals("true") || a.equals("1");
    }

    /** Checks the model named by a request (llama-server's router_validate_model); its canonical name. */
    private String validate(String name, boolean autoload) {
        if (name.isEmpty()) {
            throw RouterError.invalid("model name is missing from the request");
        }
        synchronized (this) {
            Instance inst = models.get(name);
            if (inst == null) {
                throw RouterError.invalid("model '" + name + "' not found");
            }
            if (!autoload && !inst.running()) {
                throw RouterError.invalid("model is not loaded");
            }
        }
        return name;
    }

    private void proxyPost(Context ctx) {
        byte[] body = ctx.bodyAsBytes();
        String name = "";
        try {
            JsonNode n = json.readTree(body);
            if (n != null && n.path("model").isTextual()) {
                name = n.path("model").asText();
            }
        } catch (IOException e) {
            throw RouterError.invalid("the body is not valid JSON: " + e.getMessage());
        }
        boolean autoload = autoload(ctx);
        validate(name, autoload);
        // a conversation's request is remembered before it waits: only a stop cancels it, not its client leaving
        String conv = ctx.header(CONVERSATION);
        long ticket = conversations.remember(conv, name);
        BooleanSupplier stop = ticket == 0 ? () -> clientGone(ctx) : () -> !conversations.alive(conv, ticket);
        boolean reserved = autoload && ensureReady(name, stop);
        if (ticket != 0) {
            ctx.attribute(CONVERSATION, conv); // see stopIfStopped
        }
        if (ticket != 0 && !conversations.alive(conv, ticket)) {
            synchronized (this) {
                Instance inst = models.get(name);
                if (reserved && inst != null) {
                    inst.requests--;
                }
                tick();
                notifyAll();
            }
            throw RouterError.invalid("request cancelled by a stop of its conversation while the model was loading");
        }
        forward(ctx, "POST", name, body, true, reserved);
    }

    private void proxyGet(Context ctx) {
        proxyOther(ctx, "GET");
    }

    private void proxyOther(Context ctx, String method) {
        String name = param(ctx, "model");
        boolean autoload = autoload(ctx);
        validate(name, autoload);
        boolean reserved = autoload && ensureReady(name, () -> clientGone(ctx));
        forward(ctx, method, name, null, false, reserved);
    }

    private static void ok(Context ctx, JsonNode body) {
        ctx.status(200).contentType("application/json").result(body.toString());
    }

    private void error(Context ctx, int status, String type, String message) {
        ObjectNode o = json.createObjectNode();
        ObjectNode e = o.putObject("error");
        e.put("code", status);
        e.put("message", message);
        e.put("type", type);
        ctx.status(status).contentType("application/json").result(o.toString());
    }

    /** Whether the client of a waiting request has closed its connection (a read that finds the end). */
    private static boolean clientGone(Context ctx) {
        try {
            org.eclipse.jetty.io.EndPoint ep = org.eclipse.jetty.ee10.servlet.ServletContextRequest
                    .getServletContextRequest(ctx.req()).getConnectionMetaData().getConnection().getEndPoint();
            if (!ep.isOpen()) {
                return true;
            }
            java.nio.ByteBuffer b = org.eclipse.jetty.util.BufferUtil.allocate(1);
            return ep.fill(b) < 0;
        } catch (IOException e) {
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    // ---- forwarding ------------------------------------------------------------------------

    /** Sends the request to the model's child and streams its answer back as it comes. */
    private void forward(Context ctx, String method, String name, byte[] body, boolean updateLastUsed,
                         boolean reserved) {
        int port;
        Instance inst;
        synchronized (this) {
            inst = models.get(name);
            if (reserved) {
                if (inst == null || inst.status != Status.LOADED) {
                    if (inst != null) {
                        inst.requests--;
                    }
                    throw RouterError.invalid("model name=" + name + " is not running");
                }
            } else {
                if (inst == null) {
                    throw RouterError.invalid("model '" + name + "' not found");
                }
                while (inst.status == Status.LOADING && !inst.stopping) {
                    waitQuietly(200);
                    if (clientGone(ctx)) {
                        throw RouterError.invalid("request cancelled while waiting for model name=" + name);
                    }
                }
                if (inst.status != Status.LOADED) {
                    throw RouterError.invalid("model name=" + name + " is not running");
                }
                inst.requests++;
            }
            if (updateLastUsed) {
                inst.lastUsed = System.nanoTime();
            }
            port = inst.port;
        }
        try {
            if (fakeTiming) {
                sleep(2000); // llama-server's LLAMA_SERVER_DEBUG_FAKE_TIMING: the model counts as busy meanwhile
            }
            String q = ctx.queryString();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + ctx.path()
                    + (q == null || q.isEmpty() ? "" : "?" + q)));
            for (String h : ctx.headerMap().keySet()) {
                if (!HOP.contains(h.toLowerCase(Locale.ROOT))) {
                    try {
                        b.header(h, ctx.header(h));
                    } catch (IllegalArgumentException restricted) {
                        // a header HttpClient sets itself
                    }
                }
            }
            b.header("Authorization", "Bearer " + childKey);
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new RouterError(503, "unavailable_error", "the model " + name + " did not answer: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RouterError(503, "unavailable_error", "interrupted");
            }
            stopIfStopped(ctx, port);
            ctx.status(r.statusCode());
            r.headers().map().forEach((k, v) -> {
                String l = k.toLowerCase(Locale.ROOT);
                if (!HOP.contains(l) && !l.startsWith("access-control-") && !l.equals(":status") && !v.isEmpty()) {
                    ctx.res().setHeader(k, v.get(0));
                }
            });
            try (InputStream in = r.body()) {
                OutputStream out = ctx.res().getOutputStream();
                byte[] buf = new byte[8192];
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    out.write(buf, 0, n);
                    out.flush(); // a stream goes through as it comes
                }
            } catch (IOException e) {
                // the client or the child left: closing the child's stream cancels its generation
            }
        } finally {
            synchronized (this) {
                inst.requests--;
                tick();
                notifyAll();
            }
        }
    }

    // ---- conversation streams (llama-server's router_stream_*) ------------------------------

    /** The request header that names a conversation. */
    private static final String CONVERSATION = "X-Conversation-Id";
    /** How long the router waits for a child's answer to a stop or a lookup. */
    private static final Duration STREAM_CALL_TIMEOUT = Duration.ofSeconds(2);

    private static String convId(Context ctx) {
        String id = param(ctx, "conv_id");
        if (id.isEmpty()) {
            throw RouterError.invalid("'conv_id' is required in the query string: the conversation's id, as its"
                    + " request sent it in " + CONVERSATION);
        }
        return id;
    }

    /** The port of the running child that serves the conversation, or 0. Under this. */
    private int ownerPort(String conv) {
        String model = conversations.model(conv);
        Instance inst = model == null ? null : models.get(model);
        return inst != null && inst.status == Status.LOADED && !inst.stopping ? inst.port : 0;
    }

    /** {@code GET /v1/stream?conv_id=&from=}: forwarded to the child that holds the stream; 503 while its model loads. */
    private void streamGet(Context ctx) {
        String conv = convId(ctx);
        String model = conversations.model(conv);
        synchronized (this) {
            if (ownerPort(conv) == 0) {
                Instance inst = model == null ? null : models.get(model);
                if (inst != null && (inst.status == Status.LOADING || find(model) != null)) {
                    throw new RouterError(503, "unavailable_error", "the model of this conversation's stream is"
                            + " loading: retry later");
                }
                throw new RouterError(404, "not_found_error", "no conversation stream '" + conv + "'");
            }
        }
        forward(ctx, "GET", model, null, false, false);
    }

    /**
     * {@code DELETE /v1/stream?conv_id=}: forgets the conversation (a request of it waiting for its
     * model is cancelled) and stops its stream in the child that holds it; 204.
     */
    private void streamDelete(Context ctx) {
        String conv = convId(ctx);
        int port;
        synchronized (this) {
            port = ownerPort(conv);
            conversations.forget(conv);
            notifyAll(); // a request waiting for the model sees its stop
        }
        if (port != 0) {
            stopInChild(port, conv);
        }
        ctx.status(204);
    }

    /**
     * A stop that came while a conversation's request was on its way to the child found no stream
     * there yet: once the child has answered (its stream exists), the stop is sent again.
     */
    private void stopIfStopped(Context ctx, int port) {
        String conv = ctx.attribute(CONVERSATION);
        if (conv != null && conversations.model(conv) == null) {
            stopInChild(port, conv);
        }
    }

    /** {@code POST /v1/streams/lookup}: asks each child that holds some of the ids about them, and joins the answers. */
    private void streamLookup(Context ctx) {
        Map<Integer, ArrayNode> perChild = new TreeMap<>();
        try {
            JsonNode ids = json.readTree(ctx.bodyAsBytes()).path("conversation_ids");
            synchronized (this) {
                for (JsonNode id : ids) {
                    int port = id.isTextual() ? ownerPort(id.asText()) : 0;
                    if (port != 0) {
                        perChild.computeIfAbsent(port, p -> json.createArrayNode()).add(id.asText());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            perChild.clear(); // as llama-server: a body it cannot read finds nothing
        }
        ArrayNode all = json.createArrayNode();
        perChild.forEach((port, ids) -> {
            ObjectNode q = json.createObjectNode();
            q.set("conversation_ids", ids);
            String answer = childCall(port, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/streams/lookup")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(q.toString())));
            try {
                JsonNode a = answer == null ? null : json.readTree(answer);
                if (a != null && a.isArray()) {
                    a.forEach(e -> {
                        if (e.isObject()) {
                            all.add(e);
                        }
                    });
                }
            } catch (IOException e) {
                // a child's answer it cannot read: its streams are left out
            }
        });
        ok(ctx, all);
    }

    /** Stops the conversation's stream in the child on {@code port}. */
    private void stopInChild(int port, String conv) {
        childCall(port, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/stream?conv_id="
                + java.net.URLEncoder.encode(conv, StandardCharsets.UTF_8))).DELETE());
    }

    /** A short call to a child with the router's key: its body when it answers 2xx, else null. */
    private String childCall(int port, HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = http.send(b.timeout(STREAM_CALL_TIMEOUT).header("Authorization", "Bearer " + childKey)
                    .build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() / 100 == 2 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    // ---- scheduling (llama-server's server_lru_sched) --------------------------------------

    private int running() {
        int n = 0;
        for (Instance i : models.values()) {
            n += i.running() ? 1 : 0;
        }
        return n;
    }

    private boolean hasCapacity() {
        return settings.modelsMax() <= 0 || running() < settings.modelsMax();
    }

    private Waiting find(String model) {
        for (Waiting w : queue) {
            if (w.model.equals(model)) {
                return w;
            }
        }
        return null;
    }

    /** The idle model used longest ago that no queued request wants, or null. */
    private String pickVictim() {
        String victim = null;
        long last = 0;
        for (Map.Entry<String, Instance> e : models.entrySet()) {
            Instance i = e.getValue();
            if (i.requests != 0 || i.status != Status.LOADED || i.stopping || find(e.getKey()) != null) {
                continue;
            }
            if (victim == null || i.lastUsed < last) {
                victim = e.getKey();
                last = i.lastUsed;
            }
        }
        return victim;
    }

    private void join(String model) {
        Waiting w = find(model);
        if (w != null) {
            w.waiters++;
            return;
        }
        if (queue.size() >= settings.maxQueue()) {
            throw new RouterError(503, "unavailable_error", "too many models are waiting to be loaded ("
                    + settings.maxQueue() + "); try again later");
        }
        queue.add(new Waiting(model));
    }

    private void leave(String model) {
        Waiting w = find(model);
        if (w != null && --w.waiters <= 0) {
            queue.remove(w);
        }
    }

    private boolean tryClaim(String model) {
        if (queue.isEmpty() || !queue.get(0).model.equals(model) || queue.get(0).loading || !hasCapacity()) {
            return false;
        }
        queue.get(0).loading = true;
        return true;
    }

    private void claimDone(String model, boolean ok) {
        if (!ok) {
            Waiting w = find(model);
            if (w != null) {
                w.loading = false;
            }
        }
    }

    /** Stops idle models while queued requests outnumber the free slots. */
    private void tick() {
        if (settings.modelsMax() <= 0 || queue.isEmpty()) {
            return;
        }
        int running = 0;
        int stopping = 0;
        for (Instance i : models.values()) {
            if (i.running()) {
                running++;
                stopping += i.stopping ? 1 : 0;
            }
        }
        int needed = 0;
        int claimed = 0;
        for (Waiting w : queue) {
            if (!w.loading) {
                needed++;
            } else {
                Instance i = models.get(w.model);
                if (i != null && !i.running()) {
                    claimed++;
                }
            }
        }
        int free = settings.modelsMax() - running + stopping - claimed;
        while (free < needed) {
            String victim = pickVictim();
            if (victim == null) {
                return; // every model is busy: a request's end calls tick again
            }
            requestStop(victim, models.get(victim));
            free++;
        }
    }

    /** Waits until the model runs, loading it when its turn in the queue comes (llama-server's ensure_model_ready). */
    private boolean ensureReady(String name, BooleanSupplier shouldStop) {
        boolean queued = false;
        boolean didLoad = false;
        boolean sawLoading = false;
        synchronized (this) {
            Instance inst = models.get(name);
            if (inst == null) {
                throw RouterError.invalid("model '" + name + "' not found");
            }
            if (!inst.stopping && inst.status == Status.LOADED) {
                inst.requests++; // reserved for the request: not stopped before it is forwarded
                return true;
            }
            if (inst.status == Status.UNLOADED) {
                join(name);
                tick();
                queued = true;
            }
        }
        try {
            while (true) {
                synchronized (this) {
                    Instance inst = models.get(name);
                    if (inst == null) {
                        break;
                    }
                    if (inst.stopping) {
                        if (!queued) {
                            join(name);
                            tick();
                            queued = true;
                        }
                        if (shouldStop.getAsBoolean()) {
                            throw RouterError.invalid("request cancelled while waiting for model name=" + name);
                        }
                        waitQuietly(200);
                        continue;
                    }
                    Status st = inst.status;
                    if (st == Status.LOADED) {
                        break;
                    }
                    if (st == Status.LOADING) {
                        sawLoading = true;
                    } else if (didLoad || sawLoading) {
                        if (inst.exitCode != 0) {
                            throw new RouterError(500, "server_error", "model name=" + name + " failed to load (exit"
                                    + " code " + inst.exitCode + "; see the router's log)");
                        }
                        break;
                    } else if (!queued) {
                        break;
                    }
                    if (shouldStop.getAsBoolean()) {
                        throw RouterError.invalid("request cancelled while waiting for model name=" + name);
                    }
                    if (!(st == Status.UNLOADED && tryClaim(name))) {
                        waitQuietly(200);
                        continue;
                    }
                }
                boolean ok = true;
                try {
                    loadModel(name);
                    didLoad = true;
                } catch (RuntimeException e) {
                    ok = false;
                }
                synchronized (this) {
                    claimDone(name, ok);
                    tick();
                    notifyAll();
                }
                if (!ok) {
                    synchronized (this) {
                        waitQuietly(200);
                    }
                }
            }
        } catch (RuntimeException e) {
            synchronized (this) {
                if (queued) {
                    leave(name);
                }
                tick();
                notifyAll();
            }
            throw e;
        }
        synchronized (this) {
            if (queued) {
                leave(name);
            }
            Instance inst = models.get(name);
            boolean reserved = inst != null && inst.status == Status.LOADED && !inst.stopping;
            if (reserved) {
                inst.requests++; // in the same step as leaving the queue: no tick can stop it in between
            }
            tick();
            notifyAll();
            return reserved;
        }
    }

    /** Stops the least recently used idle model when no slot is free, and waits until it has stopped. */
    private void unloadLru() {
        synchronized (this) {
            if (hasCapacity()) {
                return;
            }
            String victim = pickVictim();
            if (victim == null) {
                return;
            }
            Instance v = models.get(victim);
            unloadModel(victim, v);
            while (v.status != Status.UNLOADED) {
                waitQuietly(200);
            }
        }
    }

    /**
     * Starts the model's child (llama-server's load): it is LOADING until the child says it listens.
     *
     * @throws IllegalStateException when no slot is free or the child cannot be started
     */
    private void loadModel(String name) {
        if (fakeTiming) {
            sleep(2000); // as llama-server's LLAMA_SERVER_DEBUG_FAKE_TIMING, without holding the lock
        }
        unloadLru();
        synchronized (this) {
            Instance inst = models.get(name);
            if (inst == null) {
                throw new IllegalStateException("model name=" + name + " is not found");
            }
            if (inst.status != Status.UNLOADED) {
                return;
            }
            if (settings.modelsMax() > 0 && running() >= settings.modelsMax()) {
                throw new IllegalStateException("model limit reached, try again later");
            }
            List<String> cmd = new ArrayList<>(settings.childCommand());
            cmd.addAll(mergeFlags.apply(inst.entry.args(), settings.childArgs()));
            cmd.addAll(List.of("-m", inst.entry.model(), "--host", "127.0.0.1", "--port", "0", "--api-key", childKey,
                    "-a", name, "--drain-timeout", Integer.toString(Math.max(1, inst.entry.stopTimeout()))));
            Process p;
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
                // the child stops when the router's process ends, even when it is killed (no shutdown hook runs)
                pb.environment().put(ROUTER_PID, Long.toString(ProcessHandle.current().pid()));
                p = pb.start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start a child for " + name + ": " + e.getMessage(), e);
            }
            List<String> shown = new ArrayList<>(cmd.subList(settings.childCommand().size() - 1, cmd.size()));
            int k = shown.indexOf(childKey);
            if (k >= 0) {
                shown.set(k, "(internal)");
            }
            inst.args = List.copyOf(shown);
            inst.process = p;
            inst.status = Status.LOADING;
            inst.exitCode = 0;
            inst.stopping = false;
            inst.stopRequested = false;
            inst.port = 0;
            inst.lastUsed = System.nanoTime();
            events.publish("model_status", name, json.createObjectNode().put("status", "loading"));
            Thread t = new Thread(() -> watch(name, inst, p), "llama-java-router-" + name);
            t.setDaemon(true);
            t.start();
            notifyAll();
        }
    }

    /** Reads the child's banner (it listens: LOADED), then its stdout, then its exit (UNLOADED). */
    private void watch(String name, Instance inst, Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    synchronized (this) {
                        if (inst.process == p && inst.status == Status.LOADING) {
                            inst.port = Integer.parseInt(m.group(1));
                            inst.status = Status.LOADED;
                            events.publish("status_change", name, json.createObjectNode().put("status", "loaded"));
                            tick();
                            notifyAll();
                        }
                    }
                }
            }
        } catch (IOException e) {
            // the child's stdout closed
        }
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        synchronized (this) {
            if (inst.process == p) {
                boolean asked = inst.stopRequested;
                inst.status = Status.UNLOADED;
                inst.exitCode = asked ? 0 : (code == 0 ? 1 : code);
                inst.stopping = false;
                inst.process = null;
                inst.port = 0;
                if (!asked && !closing) {
                    err.println("router: the model " + name + " stopped on its own (exit code " + code + ")");
                }
                events.publish("status_change", name, json.createObjectNode().put("status", "unloaded")
                        .put("exit_code", inst.exitCode));
                tick();
                notifyAll();
            }
        }
    }

    /** Stops a running model: a loading one is killed, a loaded one gets SIGTERM (and is killed after its stop timeout). */
    private void unloadModel(String name, Instance inst) {
        if (inst.status == Status.LOADING && inst.process != null) {
            inst.stopRequested = true;
            inst.process.destroyForcibly();
        }
        requestStop(name, inst);
    }

    private void requestStop(String name, Instance inst) {
        if (inst.stopping || inst.process == null) {
            return;
        }
        inst.stopping = true;
        inst.stopRequested = true;
        Process p = inst.process;
        p.destroy();
        killer.schedule(() -> {
            if (p.isAlive()) {
                err.println("router: the model " + name + " did not stop in " + inst.entry.stopTimeout() + " s: killed");
                p.destroyForcibly();
            }
        }, Math.max(1, inst.entry.stopTimeout()), TimeUnit.SECONDS);
    }

    private void waitQuietly(long millis) {
        try {
            wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouterError(503, "unavailable_error", "interrupted");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Blocks until {@link #close()} has finished. */
    void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Stops every child (SIGTERM, killed after their stop timeout), then the HTTP server. Idempotent. */
    @Override
    public void close() {
        List<Process> children = new ArrayList<>();
        downloads.close(); // before the router's monitor: the downloads lock is always taken first
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            for (Map.Entry<String, Instance> e : models.entrySet()) {
                if (e.getValue().process != null) {
                    children.add(e.getValue().process);
                    unloadModel(e.getKey(), e.getValue());
                }
            }
            notifyAll();
        }
        for (Process p : children) {
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        killer.shutdownNow();
        try {
            if (app != null) {
                app.stop();
            }
        } finally {
            closed.countDown();
        }
    }
}
