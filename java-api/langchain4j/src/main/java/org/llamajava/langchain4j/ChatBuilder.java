package org.llamajava.langchain4j;

import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.llamajava.ContextParams;
import org.llamajava.Model;
import org.llamajava.chat.ChatTemplate;

/**
 * The settings both chat adapters take: a model path (loaded and closed by the adapter) or an
 * already loaded {@link Model} (shared, left open), the chat template, the context, sampling
 * defaults for requests that do not set them, llama.cpp sampler stages LangChain4j's requests
 * cannot express (logit biases, repetition penalties), and listeners.
 *
 * @param <B> the concrete builder
 */
public abstract class ChatBuilder<B extends ChatBuilder<B>> {
    Path modelPath;
    Model model;
    ChatTemplate template;
    int contextSize = 4096;
    int threads = ContextParams.defaults().threads();
    double temperature = 0.8;
    Integer topK = 40;
    Double topP = 0.95;
    int maxTokens = 512;
    int seed = 42;
    final Map<Integer, Float> logitBias = new LinkedHashMap<>();
    Penalties penalties;
    ChatRequestParameters defaultRequestParameters;
    final List<ChatModelListener> listeners = new ArrayList<>();

    ChatBuilder() {}

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** A GGUF file to load; the adapter closes it with itself. */
    public B modelPath(Path v) { this.modelPath = v; return self(); }
    /** A loaded model to share with other adapters; left open when the adapter closes. */
    public B model(Model v) { this.model = v; return self(); }
    /** The chat template (default: the model's own, chatml if it has none). */
    public B chatTemplate(ChatTemplate v) { this.template = v; return self(); }
    /** Tokens of the context (default 4096). */
    public B contextSize(int v) { this.contextSize = v; return self(); }
    /** Threads of the context (default: llama-java's default). */
    public B threads(int v) { this.threads = v; return self(); }
    /** Default temperature; 0 or less samples greedily. */
    public B temperature(double v) { this.temperature = v; return self(); }
    /** Default top-k (null: none). */
    public B topK(Integer v) { this.topK = v; return self(); }
    /** Default top-p (null: none). */
    public B topP(Double v) { this.topP = v; return self(); }
    /** Default most tokens of a reply. */
    public B maxTokens(int v) { this.maxTokens = v; return self(); }
    /** Seed of the sampler (LangChain4j's requests carry none). */
    public B seed(int v) { this.seed = v; return self(); }

    /**
     * Adds {@code bias} to the logit of {@code token} at every step of every request (llama.cpp's
     * logit bias sampler, first in the chain); a large negative bias bans the token.
     */
    public B logitBias(int token, float bias) {
        if (token < 0) {
            throw new IllegalArgumentException("logitBias: token id must be >= 0, got " + token);
        }
        logitBias.put(token, bias);
        return self();
    }

    /**
     * llama.cpp's penalties sampler over the last {@code lastN} tokens: {@code repeat} (1 is off),
     * {@code frequency} and {@code presence} (0 is off). A request's frequency and presence
     * penalties, when set, take the place of these two.
     */
    public B penalties(int lastN, float repeat, float frequency, float presence) {
        this.penalties = new Penalties(lastN, repeat, frequency, presence);
        return self();
    }

    /**
     * Request parameters every request starts from (a request's own parameters override them), for
     * example {@code toolChoice(REQUIRED)}; these override the sampling defaults above.
     */
    public B defaultRequestParameters(ChatRequestParameters v) { this.defaultRequestParameters = v; return self(); }

    /** Listeners LangChain4j calls around each request. */
    public B listeners(List<ChatModelListener> v) { this.listeners.addAll(v); return self(); }

    /** Listeners LangChain4j calls around each request. */
    public B listeners(ChatModelListener... v) { return listeners(List.of(v)); }

    ChatEngine engine() {
        ChatSettings settings = new ChatSettings(contextSize, threads, temperature, topK, topP, maxTokens, seed,
                Map.copyOf(logitBias), penalties);
        return ModelSource.open(modelPath, model, m -> new ChatEngine(m, model == null, template, settings,
                defaultRequestParameters, listeners));
    }
}
