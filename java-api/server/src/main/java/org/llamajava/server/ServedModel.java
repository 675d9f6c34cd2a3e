package org.llamajava.server;

import java.util.function.Consumer;
import org.llamajava.Context;
import org.llamajava.Model;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.multimodal.Projector;

/**
 * A model as a {@link LlamaServer} serves it, with what is loaded for it: what a model loader
 * gives {@link LlamaServer#start(java.util.function.Supplier, ServerConfig)}, which loads it at
 * start and again on each waking from sleep ({@link ServerConfig#sleepIdle()}), and closes it
 * (with what closes with the model: its projector and LoRA adapters) when it sleeps and when it
 * closes, as llama-server unloads its model while it sleeps.
 *
 * <pre>{@code
 * LlamaServer server = LlamaServer.start(() -> {
 *     Model m = Model.load(Path.of("model.gguf"));
 *     LoraAdapter style = LoraAdapter.load(m, Path.of("style-lora.gguf")); // closed with the model
 *     return new ServedModel(m, null, null, ctx -> ctx.setLoraAdapter(style, 1f));
 * }, config);
 * }</pre>
 *
 * @param model the model, which the server owns from then on
 * @param chatTemplate the chat template, resolved for this model; null for
 *     {@link ServerConfig#chatTemplate()}, or else the model's own. A template resolved for a model
 *     renders with that model's tokens, so a loader gives the one it resolved for the model it loaded.
 * @param projector loaded for {@code model}, or null for none (see
 *     {@link LlamaServer#start(Model, ServerConfig, Projector)})
 * @param contextSetup what runs on the batching engine's context before it takes requests (LoRA
 *     adapters and control vectors for this model), or null for none (see
 *     {@link LlamaServer#start(Model, ServerConfig, Projector, Consumer)})
 */
public record ServedModel(Model model, ChatTemplate chatTemplate, Projector projector,
                          Consumer<? super Context> contextSetup) {

    /**
     * Checks it.
     *
     * @throws IllegalArgumentException without a model, or with a projector loaded for another
     */
    public ServedModel {
        if (model == null) {
            throw new IllegalArgumentException("model is required");
        }
        if (projector != null && projector.model() != model) {
            throw new IllegalArgumentException("the projector was loaded for another model");
        }
    }

    /** The model alone: its own chat template (or the configuration's), no projector, no setup. */
    public static ServedModel of(Model model) {
        return new ServedModel(model, null, null, null);
    }
}
