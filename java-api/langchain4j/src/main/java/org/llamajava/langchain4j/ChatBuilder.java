package org.llamajava.langchain4j;

import java.nio.file.Path;
import org.llamajava.ContextParams;
import org.llamajava.Model;
import org.llamajava.chat.ChatTemplate;

/**
 * The settings both chat adapters take: a model path (loaded and closed by the adapter) or an
 * already loaded {@link Model} (shared, left open), the chat template, the context, and sampling
 * defaults for requests that do not set them.
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
    public B contextSize(int v) { this.contextSize = v; return self(); }
    public B threads(int v) { this.threads = v; return self(); }
    /** Default temperature; 0 or less samples greedily. */
    public B temperature(double v) { this.temperature = v; return self(); }
    public B topK(Integer v) { this.topK = v; return self(); }
    public B topP(Double v) { this.topP = v; return self(); }
    /** Default most tokens of a reply. */
    public B maxTokens(int v) { this.maxTokens = v; return self(); }
    /** Seed of the sampler (LangChain4j's requests carry none). */
    public B seed(int v) { this.seed = v; return self(); }

    ChatEngine engine() {
        ChatSettings settings = new ChatSettings(contextSize, threads, temperature, topK, topP, maxTokens, seed);
        return ModelSource.open(modelPath, model, m -> new ChatEngine(m, model == null, template, settings));
    }
}
