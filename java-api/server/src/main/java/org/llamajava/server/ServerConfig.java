package org.llamajava.server;

import java.time.Duration;
import org.llamajava.SamplingSettings;
import org.llamajava.chat.ChatOptions;
import java.util.List;
import org.llamajava.ContextParams;
import org.llamajava.chat.ChatTemplate;

/**
 * How to run a {@link LlamaServer}. Build with {@link #builder()}; the defaults are safe to
 * expose on one machine: loopback only, bounded bodies, prompts, replies and queue.
 *
 * @param host          interface to bind (several, comma-separated, as llama-server's {@code --host
 *                      127.0.0.1,::1}); {@code 127.0.0.1} by default. Binding another one
 *                      (e.g. {@code 0.0.0.0}) exposes the server to the network: set an API key
 * @param port          TCP port; 0 picks a free one ({@link LlamaServer#port()} tells which)
 * @param apiKey        when set, every endpoint but {@code /health} needs
 *                      {@code Authorization: Bearer KEY} and answers 401 otherwise; null for none
 * @param mode          what the model serves (generation by default)
 * @param modelName     the model's name in {@code /v1/models} and in responses; null for the
 *                      model file's name. A request naming another model is served by this one
 * @param chatTemplate  how chat messages become a prompt; null for the model's own template
 *                      (chatml if its GGUF has none)
 * @param slots         requests generated at once (llama-server's {@code -np})
 * @param contextSize   KV cache tokens shared by the slots; each slot holds
 *                      {@code contextSize / slots} tokens of prompt and reply. In the embedding
 *                      and rerank modes: most tokens of one input (at most the model's training length)
 * @param batchSize     most tokens in one native decode
 * @param threads       CPU threads for decoding
 * @param maxQueue      requests waiting for a slot (or for the embedder) before the server answers
 *                      503 with {@code Retry-After}
 * @param maxBodyBytes  largest request body; larger ones get 413
 * @param maxTokens     the {@code max_tokens} of a request that gives none (llama-server's {@code -n});
 *                      0 for the slot size. A request may ask for more, up to a slot's size (more is
 *                      capped, -1 is the slot's size), as llama-server allows; a reply also ends when
 *                      its slot is full
 * @param maxPromptTokens largest prompt in tokens (400 above it); 0 for the slot size less one
 * @param maxN          largest {@code n} (choices per request)
 * @param maxInputs     most inputs of one embeddings request, or documents of one rerank request
 * @param corsOrigins   origins allowed to call from a browser: origins, {@code *} for any or
 *                      {@code localhost} for loopback ones (see {@link CorsPolicy}); empty (the
 *                      default) sends no CORS headers, so browsers refuse cross-origin calls
 * @param drainTimeout  how long {@link LlamaServer#close()} lets running requests finish before
 *                      cancelling them
 * @param maxThreads    HTTP worker threads; 0 for {@code slots + maxQueue + 32}
 * @param promptCacheBytes host memory for idle slots' caches, llama-server's {@code --cache-ram}
 *                      (see {@link org.llamajava.batch.EngineParams#promptCacheBytes()}): 0 off,
 *                      -1 no limit
 * @param metricsEndpoint whether {@code GET /metrics} answers (else 501, as llama-server without
 *                      {@code --metrics}); on by default here, off by default in {@code serve}
 * @param slotsEndpoint whether {@code GET /slots} answers (else 501, llama-server's {@code --no-slots})
 * @param verbose       whether responses carry llama-server's {@code __verbose} object (the rendered
 *                      prompt), as with its {@code --verbose}; a request's {@code "verbose": true}
 *                      asks for it too
 * @param modelAliases  every name the model answers to in {@code /v1/models} (llama-server's
 *                      comma-separated {@code --alias}); empty for just {@code modelName}
 * @param modelTags     the model's tags in {@code /v1/models} (llama-server's {@code --tags})
 * @param pooling       an embedding server's pooling (llama-server's {@code --pooling}); MODEL for
 *                      the model's own
 * @param slotSavePath  the folder of {@code POST /slots/ID?action=save|restore} files
 *                      (llama-server's {@code --slot-save-path}); null: those actions answer 501
 * @param contextShift  llama-server's {@code --context-shift}: a request whose slot fills up while
 *                      it generates drops half of the slot's tokens after the first
 *                      {@code keepTokens} (and the BOS token) and goes on (its reply says
 *                      {@code truncated}); off (the default), it ends with finish reason
 *                      {@code length}. With it, {@code max_tokens} may go past a slot, up to
 *                      {@link #MAX_SHIFTED_TOKENS}. Off with a projector, as in llama-server
 * @param keepTokens    llama-server's {@code --keep}: prompt tokens after BOS that a context shift keeps
 * @param sleepIdle     llama-server's {@code --sleep-idle-seconds}: after this long without a request
 *                      that needs the model, the server frees the batching engine's context (its KV
 *                      cache and buffers) or its embedder, and the next such request builds them again
 *                      ({@code /health}, {@code /props} with {@code is_sleeping}, {@code /metrics} and
 *                      {@code /v1/models} do not wake it); the model the caller gave stays loaded.
 *                      Null (the default): never
 * @param kvUnified     llama-server's {@code --kv-unified}: each slot may hold the whole context
 *                      ({@code contextSize}), the slots sharing its cells; when they fill it, the
 *                      idle slots' caches go and then the running requests fail with 500
 *                      "Context size has been exceeded", as llama-server's. False (the default):
 *                      each slot holds {@code contextSize / slots}
 * @param vertexPredict Google Cloud Vertex AI's prediction route, as llama-server serves it under
 *                      {@code AIP_MODE=PREDICTION} ({@link VertexPredict#fromEnvironment}); null (the
 *                      default): off
 * @param cacheIdleSlots llama-server's {@code --cache-idle-slots} (true, the default) and
 *                      {@code --no-cache-idle-slots}: with the prompt cache on
 *                      ({@code promptCacheBytes} not 0), a request's start saves every other idle
 *                      slot's cache into it and clears the slot, so that a later request with the
 *                      same prompt restores it ({@code timings.cache_n}); see
 *                      {@link org.llamajava.batch.EngineParams#cacheIdleSlots()}
 * @param jinja         llama-server's {@code --jinja} (true, the default) and {@code --no-jinja}:
 *                      false, a chat request's response schema ({@code response_format},
 *                      {@code json_schema}) without tools constrains the reply from its first token
 *                      with the schema's own grammar, as llama-server's chat path without Jinja
 *                      does (with Jinja the template's grammar may allow whitespace, a code fence or
 *                      thinking before the JSON). Prompts render through the template as with true
 */
public record ServerConfig(String host, int port, String apiKey, ServerMode mode, String modelName,
                           ChatTemplate chatTemplate, int slots, int contextSize, int batchSize, int threads,
                           int maxQueue, long maxBodyBytes, int maxTokens, int maxPromptTokens, int maxN,
                           int maxInputs, List<String> corsOrigins, Duration drainTimeout, int maxThreads,
                           long promptCacheBytes, SamplingSettings sampling, ChatOptions chatDefaults,
                           boolean metricsEndpoint, boolean slotsEndpoint, boolean verbose,
                           java.nio.file.Path slotSavePath, List<String> modelAliases, List<String> modelTags,
                           org.llamajava.Pooling pooling, boolean contextShift, int keepTokens, Duration sleepIdle,
                           boolean kvUnified, VertexPredict vertexPredict, boolean cacheIdleSlots,
                           boolean jinja) {

    /** The most tokens one request may generate when the context shifts (-1 asks for them). */
    public static final int MAX_SHIFTED_TOKENS = 1 << 16;

    public ServerConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank; e.g. 127.0.0.1");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535]; got " + port);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("apiKey must not be blank; pass null for no key");
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode must not be null");
        }
        if (slots < 1 || slots > ContextParams.MAX_SEQUENCES) {
            throw new IllegalArgumentException("slots must be in [1, " + ContextParams.MAX_SEQUENCES + "]; got " + slots);
        }
        positive("contextSize", contextSize);
        positive("batchSize", batchSize);
        positive("threads", threads);
        positive("maxQueue", maxQueue);
        positive("maxN", maxN);
        positive("maxInputs", maxInputs);
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("maxBodyBytes must be at least 1024; got " + maxBodyBytes);
        }
        if (sleepIdle != null && (sleepIdle.isNegative() || sleepIdle.isZero())) {
            throw new IllegalArgumentException("sleepIdle must be positive, or null for never; got " + sleepIdle);
        }
        if (keepTokens < 0) {
            throw new IllegalArgumentException("keepTokens must be >= 0; got " + keepTokens);
        }
        if (maxTokens < 0 || maxPromptTokens < 0 || maxThreads < 0) {
            throw new IllegalArgumentException("maxTokens, maxPromptTokens and maxThreads must be >= 0 (0: the default)");
        }
        corsOrigins = List.copyOf(corsOrigins);
        modelAliases = modelAliases == null ? List.of() : List.copyOf(modelAliases);
        modelTags = modelTags == null ? List.of() : List.copyOf(modelTags);
        if (pooling == null) {
            pooling = org.llamajava.Pooling.MODEL;
        }
        if (promptCacheBytes < -1) {
            throw new IllegalArgumentException("promptCacheBytes must be -1 (no limit), 0 (off) or a size; got "
                    + promptCacheBytes);
        }
        if (chatDefaults == null) {
            throw new IllegalArgumentException("chatDefaults must not be null; e.g. ChatOptions.DEFAULT");
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling must not be null; e.g. SamplingSettings.defaults()");
        }
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drainTimeout must be zero or positive");
        }
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1; got " + v);
        }
    }

    /** The defaults: see {@link Builder}. */
    public static ServerConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** HTTP worker threads: {@link #maxThreads()}, or {@code slots + maxQueue + 32}. */
    public int workerThreads() {
        return maxThreads > 0 ? maxThreads : slots + maxQueue + 32;
    }

    /**
     * Builder for {@link ServerConfig}. Defaults: 127.0.0.1:8080, no API key, generation, 4 slots
     * over 4096 tokens, batches of 512, 64 queued requests, 2 MiB bodies, {@code n} up to 8, 256
     * inputs per embeddings request, no CORS, 30 s to drain on close, the engine's default prompt cache.
     */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private String apiKey;
        private ServerMode mode = ServerMode.COMPLETION;
        private String modelName;
        private ChatTemplate chatTemplate;
        private int slots = 4;
        private int contextSize = 4096;
        private int batchSize = 512;
        private int threads = ContextParams.defaults().threads();
        private int maxQueue = 64;
        private long maxBodyBytes = 2L << 20;
        private int maxTokens;
        private int maxPromptTokens;
        private int maxN = 8;
        private int maxInputs = 256;
        private List<String> corsOrigins = List.of();
        private Duration drainTimeout = Duration.ofSeconds(30);
        private int maxThreads;
        private long promptCacheBytes = org.llamajava.batch.EngineParams.defaultPromptCacheBytes();
        private SamplingSettings sampling = SamplingSettings.defaults();
        private ChatOptions chatDefaults = ChatOptions.DEFAULT;
        private boolean metricsEndpoint = true;
        private boolean slotsEndpoint = true;
        private boolean verbose;
        private java.nio.file.Path slotSavePath;
        private List<String> modelAliases = List.of();
        private List<String> modelTags = List.of();
        private org.llamajava.Pooling pooling = org.llamajava.Pooling.MODEL;
        private boolean contextShift;
        private int keepTokens;
        private Duration sleepIdle;
        private boolean kvUnified;
        private VertexPredict vertexPredict;
        private boolean cacheIdleSlots = true;
        private boolean jinja = true;

        private Builder() {}

        public Builder host(String v) { this.host = v; return this; }
        public Builder port(int v) { this.port = v; return this; }
        public Builder apiKey(String v) { this.apiKey = v; return this; }
        public Builder mode(ServerMode v) { this.mode = v; return this; }
        public Builder modelName(String v) { this.modelName = v; return this; }
        public Builder chatTemplate(ChatTemplate v) { this.chatTemplate = v; return this; }
        public Builder slots(int v) { this.slots = v; return this; }
        public Builder contextSize(int v) { this.contextSize = v; return this; }
        public Builder batchSize(int v) { this.batchSize = v; return this; }
        public Builder threads(int v) { this.threads = v; return this; }
        public Builder maxQueue(int v) { this.maxQueue = v; return this; }
        public Builder maxBodyBytes(long v) { this.maxBodyBytes = v; return this; }
        public Builder maxTokens(int v) { this.maxTokens = v; return this; }
        public Builder maxPromptTokens(int v) { this.maxPromptTokens = v; return this; }
        public Builder maxN(int v) { this.maxN = v; return this; }
        public Builder maxInputs(int v) { this.maxInputs = v; return this; }
        public Builder corsOrigins(List<String> v) { this.corsOrigins = List.copyOf(v); return this; }
        public Builder drainTimeout(Duration v) { this.drainTimeout = v; return this; }
        public Builder maxThreads(int v) { this.maxThreads = v; return this; }
        public Builder promptCacheBytes(long v) { this.promptCacheBytes = v; return this; }
        /**
         * The sampling a request gets for the fields it leaves out (llama-server's {@code --temp},
         * {@code --seed}, {@code --top-k}, ... set them); its logit biases apply to every request.
         */
        public Builder sampling(SamplingSettings v) { this.sampling = v; return this; }
        /**
         * What every chat request starts from (llama-server's {@code --reasoning} and
         * {@code --chat-template-kwargs}): thinking on or off, the template's extra variables, the
         * reasoning format; a request's tools, tool choice and response format are added to it.
         */
        public Builder chatDefaults(ChatOptions v) { this.chatDefaults = v; return this; }
        /** Whether {@code GET /metrics} answers (default true; llama-server's {@code --metrics}). */
        public Builder metricsEndpoint(boolean v) { this.metricsEndpoint = v; return this; }
        /** Whether {@code GET /slots} answers (default true; llama-server's {@code --slots}, {@code --no-slots}). */
        public Builder slotsEndpoint(boolean v) { this.slotsEndpoint = v; return this; }
        /** Whether responses carry {@code __verbose} (default false; llama-server's {@code --verbose}). */
        public Builder verbose(boolean v) { this.verbose = v; return this; }
        /** The folder of saved slots (llama-server's {@code --slot-save-path}); null (default): no save or restore. */
        public Builder slotSavePath(java.nio.file.Path v) { this.slotSavePath = v; return this; }
        /** Every name of the model listed in {@code /v1/models} (llama-server's {@code --alias a,b,c}). */
        public Builder modelAliases(List<String> v) { this.modelAliases = List.copyOf(v); return this; }
        /** The model's tags listed in {@code /v1/models} (llama-server's {@code --tags}). */
        public Builder modelTags(List<String> v) { this.modelTags = List.copyOf(v); return this; }
        /** An embedding server's pooling (llama-server's {@code --pooling}); MODEL (default): the model's own. */
        public Builder pooling(org.llamajava.Pooling v) { this.pooling = v; return this; }
        /** llama-server's {@code --context-shift} (default false): see {@link ServerConfig#contextShift()}. */
        public Builder contextShift(boolean v) { this.contextShift = v; return this; }
        /** llama-server's {@code --keep} (default 0): prompt tokens after BOS that a context shift keeps. */
        public Builder keepTokens(int v) { this.keepTokens = v; return this; }
        /** llama-server's {@code --sleep-idle-seconds}: see {@link ServerConfig#sleepIdle()}; null (default): never. */
        public Builder sleepIdle(Duration v) { this.sleepIdle = v; return this; }
        /** llama-server's {@code --kv-unified} (default false): see {@link ServerConfig#kvUnified()}. */
        public Builder kvUnified(boolean v) { this.kvUnified = v; return this; }
        /** Vertex AI's prediction route ({@link VertexPredict}); null (default): off. */
        public Builder vertexPredict(VertexPredict v) { this.vertexPredict = v; return this; }
        /** llama-server's {@code --cache-idle-slots} (default true): see {@link ServerConfig#cacheIdleSlots()}. */
        public Builder cacheIdleSlots(boolean v) { this.cacheIdleSlots = v; return this; }
        /** llama-server's {@code --jinja} (default true), {@code --no-jinja}: see {@link ServerConfig#jinja()}. */
        public Builder jinja(boolean v) { this.jinja = v; return this; }

        public ServerConfig build() {
            return new ServerConfig(host, port, apiKey, mode, modelName, chatTemplate, slots, contextSize, batchSize,
                    threads, maxQueue, maxBodyBytes, maxTokens, maxPromptTokens, maxN, maxInputs, corsOrigins,
                    drainTimeout, maxThreads, promptCacheBytes, sampling, chatDefaults, metricsEndpoint, slotsEndpoint,
                    verbose, slotSavePath, modelAliases, modelTags, pooling, contextShift, keepTokens, sleepIdle, kvUnified,
                    vertexPredict, cacheIdleSlots, jinja);
        }
    }
}
