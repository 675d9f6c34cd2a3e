package org.llamajava.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.batch.EngineParams;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.server.ServedModel;
import org.llamajava.server.LlamaServer;
import org.llamajava.server.ServerConfig;
import org.llamajava.server.ServerMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code serve -m MODEL}: the OpenAI-compatible server ({@link LlamaServer}) with llama-server's
 * flag names. Prints one line, {@code llama-java server listening on http://HOST:PORT ...}, to
 * stdout once it serves (with {@code --port 0}, the port chosen), and runs until SIGTERM or
 * Ctrl-C, which drain running requests (for {@code --drain-timeout} seconds) before stopping.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve the model over HTTP with OpenAI's API (llama-server's flags); stops on SIGTERM or Ctrl-C.")
final class ServeCommand extends CliCommand {
    /** Jetty's and Javalin's start-up chatter stays out of stderr; their warnings and errors do not (held: JUL keeps loggers weakly). */
    private static final List<java.util.logging.Logger> QUIET = List.of(java.util.logging.Logger.getLogger("org.eclipse.jetty"),
            java.util.logging.Logger.getLogger("io.javalin"));

    @Mixin
    ModelOption model;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "${env:LLAMA_ARG_HOST:-127.0.0.1}",
            description = "address to listen on (default: 127.0.0.1; env: LLAMA_ARG_HOST)")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:LLAMA_ARG_PORT:-8080}",
            description = "port, 0 for any free one (default: 8080; env: LLAMA_ARG_PORT)")
    int port;

    @Option(names = {"-np", "--parallel"}, paramLabel = "N", defaultValue = "${env:LLAMA_ARG_N_PARALLEL:-4}",
            description = "slots: requests served at once (default: 4; env: LLAMA_ARG_N_PARALLEL)")
    int slots;

    @Mixin
    ContextOptions context;

    @Mixin
    GpuOption gpu;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require Authorization: Bearer KEY")
    String apiKey;

    @Option(names = "--chat-template", paramLabel = "NAME", defaultValue = "${env:LLAMA_ARG_CHAT_TEMPLATE}",
            description = "a built-in chat template's name, a Jinja file, or the Jinja template itself, as llama-server"
                    + " takes it (env: LLAMA_ARG_CHAT_TEMPLATE)")
    String chatTemplate;

    @Option(names = "--chat-template-file", paramLabel = "FILE", defaultValue = "${env:LLAMA_ARG_CHAT_TEMPLATE_FILE}",
            description = "a Jinja chat template file (env: LLAMA_ARG_CHAT_TEMPLATE_FILE)")
    String chatTemplateFile;

    @Option(names = {"-a", "--alias"}, paramLabel = "NAME", defaultValue = "${env:LLAMA_ARG_ALIAS}",
            description = "the model's name in responses (env: LLAMA_ARG_ALIAS)")
    String alias;

    @Option(names = {"-n", "--n-predict", "--predict"}, paramLabel = "N", defaultValue = "${env:LLAMA_ARG_N_PREDICT:-0}",
            description = "max_tokens of a request that gives none (default and -1: as many as fit in a slot; a request may ask for more, up to a slot)")
    int maxTokens;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64", description = "requests that may wait (default: 64)")
    int maxQueue;

    @Option(names = {"-cram", "--cache-ram"}, paramLabel = "MiB", description = "host memory for idle slots' caches"
            + " (the prompt cache, as llama-server's): -1 no limit, 0 off (idle slots keep their KV); default: a"
            + " quarter of the heap, at most 8192")
    Long cacheRam;

    @Option(names = "--cache-idle-slots", negatable = true, defaultValue = "${env:LLAMA_ARG_CACHE_IDLE_SLOTS:-true}",
            fallbackValue = "true", description = "when a request starts, save the other idle slots' caches into the"
            + " prompt cache (--cache-ram) and clear them, as llama-server's; a later request with the same prompt"
            + " restores it (on by default; env: LLAMA_ARG_CACHE_IDLE_SLOTS)")
    boolean cacheIdleSlots;

    @Option(names = "--jinja", negatable = true, defaultValue = "${env:LLAMA_ARG_JINJA:-true}", fallbackValue = "true",
            description = "chat requests through the template's Jinja and llama.cpp's chat API (the default, as"
            + " llama-server's); --no-jinja: as llama-server's chat path without Jinja, a response_format or json_schema"
            + " constrains the reply from its first token with the schema's own grammar (env: LLAMA_ARG_JINJA)")
    boolean jinja;

    @Option(names = {"--cors-origins", "--cors-origin"}, paramLabel = "ORIGIN,...", description = "origins a browser page"
            + " may call from: origins, * for any, or localhost for loopback pages (env: LLAMA_ARG_CORS_ORIGINS). Default:"
            + " any origin when an API key is set (pages need the key, as with llama-server); localhost with --tools or MCP"
            + " servers (as llama-server); none without a key")
    String corsOrigin;

    @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "how long running requests may finish on SIGTERM (default: 30)")
    int drainTimeout;

    @Option(names = "--threads-http", paramLabel = "N", defaultValue = "${env:LLAMA_ARG_THREADS_HTTP:-0}",
            description = "HTTP threads (default: automatic; env: LLAMA_ARG_THREADS_HTTP)")
    int threadsHttp;

    @Mixin
    Multimodal multimodal;

    @Mixin
    AdapterOptions adapters;

    @Option(names = "--lora-init-without-apply", description = "load the --lora adapters at scale 0: requests"
            + " apply them with \"lora\": [{\"id\": N, \"scale\": X}], or POST /lora-adapters for all")
    boolean loraWithoutApply;

    @Option(names = {"--embeddings", "--embedding"}, description = "serve /v1/embeddings")
    boolean embeddings;

    @Option(names = {"--reranking", "--rerank"}, description = "serve /v1/rerank")
    boolean rerank;

    /** The sampling a request gets for the fields it leaves out, as llama-server's flags set it. */
    @Mixin
    SamplerFlags sampler;

    @Option(names = {"-rea", "--reasoning"}, paramLabel = "on|off|auto", defaultValue = "${env:LLAMA_ARG_REASONING}",
            description = "thinking in chats: on, off, or auto (the template decides; default; env: LLAMA_ARG_REASONING)")
    String reasoning;

    @Option(names = "--chat-template-kwargs", paramLabel = "JSON", defaultValue = "${env:LLAMA_ARG_CHAT_TEMPLATE_KWARGS}",
            description = "extra variables for the chat template, a JSON object (env: LLAMA_ARG_CHAT_TEMPLATE_KWARGS)")
    String chatTemplateKwargs;

    @Option(names = "--metrics", defaultValue = "${env:LLAMA_ARG_ENDPOINT_METRICS:-false}",
            description = "serve GET /metrics (Prometheus text), as llama-server's --metrics; off by default")
    boolean metrics;

    @Option(names = "--slots", negatable = true, defaultValue = "${env:LLAMA_ARG_ENDPOINT_SLOTS:-true}", fallbackValue = "true",
            description = "serve GET /slots (on by default; --no-slots: 501)")
    boolean slotsEndpoint;

    @Option(names = "--tags", paramLabel = "TAG,...", defaultValue = "${env:LLAMA_ARG_TAGS}",
            description = "the model's tags, listed in /v1/models")
    String tags;

    @Option(names = "--pooling", paramLabel = "none|mean|cls|last|rank", defaultValue = "${env:LLAMA_ARG_POOLING}",
            description = "an embedding server's pooling (default: the model's; none: one vector per token, on /embeddings only)")
    String pooling;

    @Option(names = "--slot-save-path", paramLabel = "DIR",
            description = "folder for POST /slots/ID?action=save|restore (created if missing); without it those answer 501")
    Path slotSavePath;

    @Option(names = "--context-shift", negatable = true, defaultValue = "${env:LLAMA_ARG_CONTEXT_SHIFT:-false}",
            fallbackValue = "true", description = "when a slot fills up while a request generates, drop half of its"
            + " tokens after --keep and go on, as llama-server's (off by default: the reply ends, finish reason length)")
    boolean contextShift;

    @Option(names = "--keep", paramLabel = "N", defaultValue = "0",
            description = "prompt tokens (after BOS) that a context shift keeps (default: 0)")
    int keep;

    @Option(names = "--sleep-idle-seconds", paramLabel = "SECONDS", defaultValue = "-1",
            description = "after this many seconds without a request, free the engine's context (the KV cache) until"
            + " the next request, as llama-server's (/props says is_sleeping; default: -1, never)")
    int sleepIdleSeconds;

    @Option(names = {"-kvu", "--kv-unified"}, defaultValue = "${env:LLAMA_ARG_KV_UNIFIED:-false}",
            description = "one KV cache for all slots: each may hold the whole context (-c), as llama-server's"
            + " --kv-unified; when the slots together fill it, the running requests fail (default: off, each slot"
            + " holds -c / -np)")
    boolean kvUnified;

    @Option(names = {"-no-kvu", "--no-kv-unified"}, description = "each slot holds -c / -np tokens (the default)")
    boolean noKvUnified;

    @Option(names = "--models-max", paramLabel = "N", defaultValue = "${env:LLAMA_ARG_MODELS_MAX:-4}",
            description = "router mode (no -m): models loaded at once, the least recently used idle one stopped for"
            + " another (default: 4; 0: no limit; env: LLAMA_ARG_MODELS_MAX)")
    int modelsMax;

    @Option(names = "--models-preset", paramLabel = "FILE", defaultValue = "${env:LLAMA_ARG_MODELS_PRESET}",
            description = "router mode: an INI file of models ([NAME] with model = FILE or hf-repo = ORG/REPO[:QUANT],"
            + " and serve's flags; [*] for all; env: LLAMA_ARG_MODELS_PRESET)")
    Path modelsPreset;

    @Option(names = "--models-autoload", negatable = true, defaultValue = "${env:LLAMA_ARG_MODELS_AUTOLOAD:-true}",
            fallbackValue = "true", description = "router mode: load a model on its first request (on by default;"
            + " --no-models-autoload: only POST /models/load does, other requests get 400)")
    boolean modelsAutoload;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Whether --verbose was given, before or after the command's name (llama-server's -v adds __verbose to replies). */
    private boolean verbose() {
        for (picocli.CommandLine.ParseResult p = spec.root().commandLine().getParseResult(); p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** --alias a,b,c: every name, in order (the first, alphabetically, names the model in replies, as llama-server's). */
    private List<String> aliases() {
        return new java.util.ArrayList<>(new java.util.TreeSet<>(split(alias)));
    }

    private static List<String> split(String commaSeparated) {
        if (commaSeparated == null || commaSeparated.isBlank()) {
            return List.of();
        }
        return Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
    }

    private org.llamajava.Pooling poolingFlag() {
        try {
            return org.llamajava.Pooling.ofFlag(pooling);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--pooling takes none, mean, cls, last or rank, not '" + pooling + "'");
        }
    }

    /** --keep: llama-server's -1 (the whole prompt) is a per-request length, which serve's shift does not take. */
    private int keepFlag() {
        if (keep < 0) {
            throw new UsageException("--keep takes a number of tokens (0 or more); serve does not take -1 (the whole"
                    + " prompt): give the length of the prefix to keep");
        }
        return keep;
    }

    /** --sleep-idle-seconds: -1 never, else at least 1 (llama-server refuses 0). */
    private java.time.Duration sleepIdle() {
        if (sleepIdleSeconds == 0 || sleepIdleSeconds < -1) {
            throw new UsageException("--sleep-idle-seconds takes a number of seconds (1 or more), or -1 for never; not "
                    + sleepIdleSeconds);
        }
        return sleepIdleSeconds < 0 ? null : java.time.Duration.ofSeconds(sleepIdleSeconds);
    }

    /** --slot-save-path, created if missing. */
    private Path slotSaveDir() {
        if (slotSavePath == null) {
            return null;
        }
        try {
            return java.nio.file.Files.createDirectories(slotSavePath).toAbsolutePath();
        } catch (java.io.IOException e) {
            throw new UsageException("--slot-save-path " + slotSavePath + " is not a folder that can be written: "
                    + e.getMessage());
        }
    }

    /** What every chat request starts from: --reasoning and --chat-template-kwargs, as llama-server reads them. */
    org.llamajava.chat.ChatOptions chatDefaults() {
        java.util.Map<String, String> kwargs = new java.util.LinkedHashMap<>();
        if (chatTemplateKwargs != null && !chatTemplateKwargs.isBlank()) {
            com.fasterxml.jackson.databind.JsonNode n;
            try {
                n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(chatTemplateKwargs);
            } catch (java.io.IOException e) {
                throw new UsageException("--chat-template-kwargs is not JSON: " + e.getMessage());
            }
            if (n == null || !n.isObject()) {
                throw new UsageException("--chat-template-kwargs must be a JSON object, e.g. '{\"enable_thinking\": false}'");
            }
            n.fields().forEachRemaining(e -> kwargs.put(e.getKey(), e.getValue().toString()));
        }
        org.llamajava.chat.ChatOptions.Builder b = org.llamajava.chat.ChatOptions.DEFAULT.toBuilder();
        if (reasoning != null) {
            switch (reasoning.toLowerCase(java.util.Locale.ROOT)) {
                case "on", "true", "1", "enabled" -> kwargs.put("enable_thinking", "true");
                case "off", "false", "0", "disabled" -> {
                    kwargs.put("enable_thinking", "false");
                    b.enableThinking(false);
                }
                case "auto" -> { }
                default -> throw new UsageException("--reasoning takes on, off or auto, not '" + reasoning + "'");
            }
        }
        return b.templateKwargs(kwargs).build();
    }

    /**
     * llama-server's spelling of its long flags with underscores ({@code --ctx_size},
     * {@code --backend_sampling}): it reads every {@code _} of a {@code --} flag as {@code -}; so
     * does serve (the flag's name only, not a value after {@code =}).
     */
    static String[] dashes(String[] args) {
        String[] out = args.clone();
        for (int i = 1; i < out.length; i++) {
            String a = out[i];
            if (a.equals("--")) {
                break;
            }
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            if (name.startsWith("--") && name.indexOf('_') > 0 && name.matches("--[A-Za-z0-9_-]+")) {
                out[i] = name.replace('_', '-') + (eq < 0 ? "" : a.substring(eq));
            }
        }
        return out;
    }

    /**
     * Whether {@code --chat-template}'s value is a template's text, as llama-server reads it: neither
     * a built-in template's name nor a file (serve also takes a file there).
     */
    static boolean inline(String template, boolean file) {
        if (file || ChatTemplate.builtinNames().contains(template)) {
            return false;
        }
        try {
            return !java.nio.file.Files.isRegularFile(Path.of(template));
        } catch (java.nio.file.InvalidPathException e) {
            return true;
        }
    }

    /** What serve's options did not take: llama-server's other flags (see {@link ServerFlags}). */
    @Unmatched
    List<String> unmatched = new java.util.ArrayList<>();

    @Override
    protected int run() {
        QUIET.forEach(l -> l.setLevel(java.util.logging.Level.WARNING));
        for (String warning : ServerFlags.check(unmatched)) {
            err.println("warning: " + warning);
        }
        if (!model.given()) {
            return router();
        }
        if (embeddings && rerank) {
            throw new UsageException("--embeddings and --reranking exclude each other: a server serves one of them");
        }
        if ((embeddings || rerank) && adapters.given()) {
            throw new UsageException("--lora and --control-vector apply to text generation: not with --embeddings or"
                    + " --reranking");
        }
        adapters.check();
        if (chatTemplate != null && chatTemplateFile != null) {
            throw new UsageException("give --chat-template NAME or --chat-template-file FILE, not both");
        }
        ServerConfig.Builder cfg = ServerConfig.builder()
                .host(host)
                .port(port)
                .mode(rerank ? ServerMode.RERANK : embeddings ? ServerMode.EMBEDDING : ServerMode.COMPLETION)
                .slots(slots).contextSize(context.contextSize(4096)).batchSize(context.batchSize(512))
                .maxQueue(maxQueue).maxTokens(maxTokens < 0 ? 0 : maxTokens) // -1: as many as fit, as llama-server
                .promptCacheBytes(cacheRam == null ? EngineParams.defaultPromptCacheBytes()
                        : cacheRam < 0 ? -1 : cacheRam << 20)
                .drainTimeout(java.time.Duration.ofSeconds(drainTimeout))
                .maxThreads(threadsHttp).modelName(aliases().isEmpty() ? null : aliases().get(0))
                .modelAliases(aliases()).modelTags(split(tags))
                .sampling(sampler.settings())
                .chatDefaults(chatDefaults())
                .metricsEndpoint(metrics).slotsEndpoint(slotsEndpoint).verbose(verbose())
                .slotSavePath(slotSaveDir())
                .pooling(pooling == null ? org.llamajava.Pooling.MODEL : poolingFlag())
                .contextShift(contextShift).keepTokens(keepFlag()).sleepIdle(sleepIdle())
                .kvUnified(kvUnified && !noKvUnified).cacheIdleSlots(cacheIdleSlots).jinja(jinja)
                .apiKey(apiKey);
        // Google Cloud Vertex AI (AIP_MODE=PREDICTION), as llama-server: its prediction route, and its port
        try {
            int aipPort = org.llamajava.server.VertexPredict.port(System.getenv(), port);
            if (aipPort != port) {
                System.err.println("warning: AIP_MODE=PREDICTION: listening on AIP_HTTP_PORT " + aipPort + ", not " + port);
            }
            cfg.port(aipPort).vertexPredict(org.llamajava.server.VertexPredict.fromEnvironment(System.getenv()));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (context.threads() != null) {
            cfg.threads(context.threads());
        }
        cfg.corsOrigins(corsOrigins());
        Path modelPath = model.path(this);
        org.llamajava.ModelParams modelParams = gpu.modelParams().build();
        String template = chatTemplateFile != null ? chatTemplateFile : chatTemplate;
        AdapterOptions.Loaded[] firstAdapters = new AdapterOptions.Loaded[1];
        // the server owns the model: it loads it here, closes it while it sleeps (--sleep-idle-seconds) and
        // loads it again on waking, with what depends on it:
        // --chat-template(-file): resolved for the model;
        // --mmproj: images in chat requests (data: URLs); the projector closes with the model
        // --lora, --control-vector: loaded for the model (closed with it), applied to the context of every slot
        // (GET /lora-adapters lists them by id in command-line order; "lora" in a request and
        // POST /lora-adapters change their scales)
        java.util.function.Supplier<ServedModel> loader = () -> {
            Model loaded = Model.load(modelPath, modelParams);
            try {
                ChatTemplate t = template == null ? null : inline(template, chatTemplateFile != null)
                        ? ChatTemplate.jinja(template, loaded) : ChatTemplate.resolve(loaded, template);
                AdapterOptions.Loaded applied = adapters.given() ? adapters.load(loaded) : null;
                if (applied != null && loraWithoutApply) {
                    applied = applied.withoutApplying();
                }
                if (firstAdapters[0] == null) {
                    firstAdapters[0] = applied;
                }
                return new ServedModel(loaded, t, multimodal.load(loaded, context.threads()), applied);
            } catch (RuntimeException e) {
                loaded.close();
                throw e;
            }
        };
        LlamaServer server = LlamaServer.start(loader, cfg.build());
        AdapterOptions.Loaded applied = firstAdapters[0];
        if (applied != null) {
            err.println((loraWithoutApply && !applied.loras().isEmpty() ? "loaded " : "applied ")
                    + applied.describe() + (loraWithoutApply && !applied.loras().isEmpty()
                    ? " (LoRA at scale 0 until a request or POST /lora-adapters sets one)" : " to every slot"));
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err.println("stopping: draining running requests");
            server.close(); // closes the model too
            err.println("stopped");
        }, "llama-java-serve-shutdown"));
        ServerConfig c = server.config();
        out.println("llama-java server listening on " + server.baseUrl() + " (model " + server.modelName() + ", "
                + (c.mode() == ServerMode.COMPLETION ? c.slots() + " slots of " + (c.contextSize() / c.slots())
                        + " tokens" : c.mode().name().toLowerCase(java.util.Locale.ROOT))
                + (c.apiKey() == null ? ", no API key" : ", API key required") + ")");
        out.flush();
        if (c.apiKey() == null && !split(c.host()).stream().allMatch(h -> h.equals("127.0.0.1") || h.equals("localhost")
                || h.equals("::1"))) {
            err.println("warning: listening on " + c.host() + " without --api-key: anyone who reaches this machine"
                    + " can use the model");
        }
        stopWithRouter();
        try {
            server.awaitClosed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** A router's child: stops (as on SIGTERM) when the router's process ends, however it ends. */
    private void stopWithRouter() {
        String pid = System.getenv(ModelRouter.ROUTER_PID);
        if (pid == null || pid.isBlank()) {
            return;
        }
        try {
            ProcessHandle.of(Long.parseLong(pid.strip())).ifPresentOrElse(h -> h.onExit().thenRun(() -> {
                err.println("stopping: the router (process " + pid + ") has ended");
                System.exit(0);
            }), () -> System.exit(0));
        } catch (NumberFormatException e) {
            err.println("warning: " + ModelRouter.ROUTER_PID + " is not a process id: " + pid);
        }
    }

    /**
     * The origins CORS allows. Given with --cors-origins (or LLAMA_ARG_CORS_ORIGINS), those. Else, as
     * llama-server, loopback pages only when built-in tools or MCP servers were asked for (serve has
     * neither, but a script that asks for them expects that rule). Else llama-server allows every
     * origin; serve does so only with an API key, which a page still has to send: without a key any web
     * page the user visits could call the model, so there are no CORS headers.
     */
    List<String> corsOrigins() {
        String given = corsOrigin != null ? corsOrigin : System.getenv("LLAMA_ARG_CORS_ORIGINS");
        if (given != null) {
            return split(given);
        }
        if (toolsAskedFor()) {
            return List.of("localhost");
        }
        return apiKey != null ? List.of("*") : List.of();
    }

    /** Whether llama-server's built-in tools or MCP servers were asked for (--tools, --agent, --mcp-servers-*). */
    private boolean toolsAskedFor() {
        boolean asked = false;
        for (int i = 0; i < unmatched.size(); i++) {
            String a = unmatched.get(i);
            String name = a.startsWith("--") && a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            String value = a.contains("=") && a.startsWith("--") ? a.substring(a.indexOf('=') + 1)
                    : i + 1 < unmatched.size() ? unmatched.get(i + 1) : "";
            switch (name) {
                case "--tools", "--mcp-servers-config", "--mcp-servers-json" -> asked = !value.isBlank();
                case "-ag", "--agent" -> asked = true;
                case "-no-ag", "--no-agent" -> asked = false;
                default -> { }
            }
        }
        for (String env : List.of("LLAMA_ARG_TOOLS", "LLAMA_ARG_MCP_SERVERS_CONFIG", "LLAMA_ARG_MCP_SERVERS_JSON")) {
            String v = System.getenv(env);
            asked |= v != null && !v.isBlank();
        }
        String agent = System.getenv("LLAMA_ARG_AGENT");
        return asked || (agent != null && List.of("1", "true", "on", "enabled").contains(agent.toLowerCase(java.util.Locale.ROOT)));
    }

    /** Flags of serve that the router sets for each child itself, or reads itself: not passed on. */
    private static final java.util.Set<String> ROUTER_ONLY = java.util.Set.of("--host", "--port", "--api-key",
            "--models-max", "--models-preset", "--models-autoload", "--no-models-autoload", "-a", "--alias", "--tags",
            "--cors-origins", "--cors-origin", "--drain-timeout", "-m", "--model", "--threads-http");

    /**
     * Router mode (no -m), as llama-server's: the models of the models folder and of --models-preset,
     * each started on demand as a child {@code serve} process of this JVM's binary and class path.
     */
    private int router() {
        if (modelsMax < 0) {
            throw new UsageException("--models-max takes a number of models (0 for no limit), not " + modelsMax);
        }
        if (modelsPreset != null && !java.nio.file.Files.isRegularFile(modelsPreset)) {
            throw new UsageException("--models-preset " + modelsPreset + " is not a file: give an INI file of model"
                    + " presets (see docs/server.md, Router mode)");
        }
        java.nio.file.Path dir = org.llamajava.hub.ModelCache.fromEnvironment(model.modelsDir).dir().toAbsolutePath();
        if (modelsPreset == null && RouterCatalog.scan(dir).isEmpty()) {
            // a router with nothing to serve: most likely -m was forgotten
            throw new UsageException("missing -m MODEL (without -m, serve serves the models of the models folder, "
                    + dir + ", which has none: 'llama-java pull REF' puts one there; or give --models-dir DIR or"
                    + " --models-preset FILE)");
        }
        List<String> childCommand = childCommand();
        ModelRouter.Settings settings = new ModelRouter.Settings(host, port, apiKey,
                corsOrigins(), modelsMax, modelsAutoload, dir,
                modelsPreset == null ? null : modelsPreset.toAbsolutePath(), routerArgsForChildren(), childCommand,
                threadsHttp, maxQueue);
        ModelRouter router = ModelRouter.start(settings, err, this::mergeFlags);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err.println("stopping: stopping the models");
            router.close();
            err.println("stopped");
        }, "llama-java-router-shutdown"));
        out.println("llama-java server listening on " + router.baseUrl() + " (router, " + router.modelCount()
                + " models from " + dir + (modelsPreset == null ? "" : " and " + modelsPreset) + ", at most "
                + (modelsMax == 0 ? "any number" : modelsMax) + " loaded" + (apiKey == null ? ", no API key"
                : ", API key required") + ")");
        out.flush();
        if (apiKey == null && !split(host).stream().allMatch(h -> h.equals("127.0.0.1") || h.equals("localhost")
                || h.equals("::1"))) {
            err.println("warning: listening on " + host + " without --api-key: anyone who reaches this machine"
                    + " can use the models");
        }
        try {
            router.awaitClosed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** This JVM's binary, its flags and class path, the CLI's main class and the options before "serve", then "serve". */
    private List<String> childCommand() {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-Djava.class.path") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        List<String> original = spec.root().commandLine().getParseResult().originalArgs();
        int at = original.indexOf(spec.name());
        cmd.addAll(original.subList(0, Math.max(0, at)));
        cmd.add(spec.name());
        return cmd;
    }

    /** serve's own arguments less those the router keeps for itself: every child gets them. */
    private List<String> routerArgsForChildren() {
        List<String> original = spec.root().commandLine().getParseResult().originalArgs();
        int at = original.indexOf(spec.name());
        List<String> args = original.subList(at + 1, original.size());
        List<String> out = new java.util.ArrayList<>();
        for (List<String> flag : flags(args)) {
            String name = flag.get(0).contains("=") && flag.get(0).startsWith("--")
                    ? flag.get(0).substring(0, flag.get(0).indexOf('=')) : flag.get(0);
            if (!ROUTER_ONLY.contains(name)) {
                out.addAll(flag);
            }
        }
        return out;
    }

    /** {@code base} with {@code override}'s flags put over it: a flag given in both keeps override's value. */
    List<String> mergeFlags(List<String> base, List<String> override) {
        java.util.LinkedHashMap<String, List<String>> byKey = new java.util.LinkedHashMap<>();
        int n = 0;
        for (List<String> source : List.of(base, override)) {
            for (List<String> flag : flags(source)) {
                String key = flagKey(flag.get(0));
                if (key.equals("--lora") || key.equals("--control-vector") || !key.startsWith("-")) {
                    key = key + "#" + (n++); // repeatable
                }
                byKey.remove(key);
                byKey.put(key, flag);
            }
        }
        List<String> out = new java.util.ArrayList<>();
        byKey.values().forEach(out::addAll);
        return out;
    }

    /** The arguments split into flags, each with its value if it takes one. */
    private List<List<String>> flags(List<String> args) {
        List<List<String>> out = new java.util.ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String name = a.startsWith("--") && a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            boolean inline = !name.equals(a);
            if (!inline && i + 1 < args.size() && takesValue(name)) {
                out.add(List.of(a, args.get(++i)));
            } else {
                out.add(List.of(a));
            }
        }
        return out;
    }

    private boolean takesValue(String name) {
        picocli.CommandLine.Model.OptionSpec o = spec.findOption(name);
        if (o != null) {
            return o.arity().max() > 0 && !o.negatable() && !(o.type() == boolean.class || o.type() == Boolean.class);
        }
        ServerFlags.Flag f = ServerFlags.byName().get(name);
        return f != null && f.takesValue() && !f.negated().contains(name);
    }

    /** One name for every spelling of a flag (-c and --ctx-size, --slots and --no-slots). */
    private String flagKey(String arg) {
        String name = arg.startsWith("--") && arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        picocli.CommandLine.Model.OptionSpec o = spec.findOption(name);
        if (o == null && name.startsWith("--no-")) {
            o = spec.findOption("--" + name.substring(5));
        }
        if (o != null) {
            return o.longestName();
        }
        ServerFlags.Flag f = ServerFlags.byName().get(name);
        return f != null ? f.names().get(f.names().size() - 1) : name;
    }

}
