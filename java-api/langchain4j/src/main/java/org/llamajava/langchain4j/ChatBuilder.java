package org.llamajava.langchain4j;

import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.ContextParams;
import org.llamajava.Model;
import org.llamajava.SamplingSettings;
import org.llamajava.chat.ChatTemplate;

/**
 * The settings both chat adapters take: a model path (loaded and closed by the adapter) or an
 * already loaded {@link Model} (shared, left open), the chat template, the context, sampling
 * defaults for requests that do not set them (core's {@link SamplingSettings}, llama-server's
 * defaults), llama.cpp sampler stages LangChain4j's requests cannot express (min-p, logit biases,
 * repetition penalties), and listeners.
 *
 * @param <B> the concrete builder
 */
public abstract class ChatBuilder<B extends ChatBuilder<B>> {
    Path modelPath;
    Model model;
    ChatTemplate template;
    int contextSize = 4096;
    int threads = ContextParams.defaults().threads();
    int maxTokens = 512;
    final SamplingSettings.Builder sampling = SamplingSettings.builder();
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
    /** Default temperature (0.8); 0 or less samples greedily. */
    public B temperature(double v) { sampling.temperature((float) v); return self(); }
    /** Default top-k (40; null or 0: none). */
    public B topK(Integer v) { sampling.topK(v == null ? 0 : v); return self(); }
    /** Default top-p (0.95; null or 1: none). */
    public B topP(Double v) { sampling.topP(v == null ? 1f : v.floatValue()); return self(); }
    /** Min-p (0.05; 0: none); LangChain4j's requests carry none. */
    public B minP(double v) { sampling.minP((float) v); return self(); }
    /** Default most tokens of a reply. */
    public B maxTokens(int v) { this.maxTokens = v; return self(); }
    /**
     * Seed of the sampler (default: random, as llama-server's; LangChain4j's requests carry none).
     * llama.cpp's seeds are 32-bit: the low 32 bits are used.
     */
    public B seed(long v) { sampling.seed(v); return self(); }

    /**
     * Adds {@code bias} to the logit of {@code token} at every step of every request (llama.cpp's
     * logit bias sampler, first in the chain); a large negative bias bans the token.
     */
    public B logitBias(int token, float bias) {
        if (token < 0) {
            throw new IllegalArgumentException("logitBias: token id must be >= 0, got " + token);
        }
        sampling.logitBias(token, bias);
        return self();
    }

    /**
     * llama.cpp's penalties sampler over the last {@code lastN} tokens: {@code repeat} (1 is off),
     * {@code frequency} and {@code presence} (0 is off). A request's frequency and presence
     * penalties, when set, take the place of these two.
     */
    public B penalties(int lastN, float repeat, float frequency, float presence) {
        sampling.penaltyLastN(lastN).repeatPenalty(repeat).frequencyPenalty(frequency).presencePenalty(presence);
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
        // before the model loads: a template that is accepted works for every request (tools too)
        if (template != null && !template.supportsChatApi()) {
            throw new IllegalArgumentException(template + " renders plain chats only, not the tools, reasoning and JSON"
                    + " replies this adapter offers: use ChatTemplate.builtin(\"chatml\"), a Jinja template or the"
                    + " model's own");
        }
        ChatSettings settings = new ChatSettings(contextSize, threads, maxTokens, sampling.build());
        return ModelSource.open(modelPath, model, m -> new ChatEngine(m, model == null, template, settings,
                defaultRequestParameters, listeners));
    }
}
