package org.llamajava.batch;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.llamajava.Context;
import org.llamajava.LoraAdapter;

/**
 * LoRA scheduling: the adapters of requests that name none, the set the context applies, and
 * which set's requests each step decodes (one set a step, switching after at most
 * {@value BatchEngine#LORA_QUANTUM} steps while another waits). Holds every adapter the engine is
 * given until the engine closes. The defaults may be read and replaced from any thread; the rest
 * belongs to the engine thread.
 */
final class LoraScheduler {
    private final Context context;
    private final Slot[] slots;
    /** The adapters of requests that name none (as given: zero scales kept). */
    private volatile Map<LoraAdapter, Float> defaults = Map.of();
    /** The adapters the context applies now, without zero scales (engine thread). */
    private Map<LoraAdapter, Float> applied = Map.of();
    /** Steps decoded in a row with {@link #applied} while another set waited. */
    private int steps;
    /** Where the search for the next set of adapters starts. */
    private int cursor;

    LoraScheduler(Context context, Slot[] slots) {
        this.context = context;
        this.slots = slots;
    }

    /**
     * Takes the adapters the setup applied to the context as the defaults, and as those the
     * context applies and every slot's (empty) cache was evaluated with; holds them. Before the
     * engine thread starts.
     */
    void started(Map<LoraAdapter, Float> adapters) {
        defaults = adapters;
        applied = effective(adapters);
        for (Slot s : slots) {
            s.loras = applied;
        }
        hold(adapters);
    }

    /** The adapters of requests that name none. */
    Map<LoraAdapter, Float> defaults() {
        return defaults;
    }

    /** Holds {@code adapters} (a checked copy), then makes them the defaults. */
    void setDefaults(Map<LoraAdapter, Float> adapters) {
        hold(adapters);
        defaults = adapters;
    }

    /** Checks adapters against the model and keeps them from being closed while the engine runs; null: none. */
    void hold(Map<LoraAdapter, Float> adapters) {
        if (adapters != null) {
            for (LoraAdapter a : adapters.keySet()) {
                context.port().holdLora(a);
            }
        }
    }

    /** The adapters a request generates with: its own, or else the defaults, without zero scales. */
    Map<LoraAdapter, Float> forRequest(Map<LoraAdapter, Float> requested) {
        return effective(requested != null ? requested : defaults);
    }

    /** The adapters that change the weights: those with a scale other than 0 (llama.cpp ignores the rest). */
    private static Map<LoraAdapter, Float> effective(Map<LoraAdapter, Float> adapters) {
        Map<LoraAdapter, Float> out = new LinkedHashMap<>();
        adapters.forEach((a, scale) -> {
            if (scale != 0f) {
                out.put(a, scale);
            }
        });
        return out.isEmpty() ? Map.of() : Collections.unmodifiableMap(out);
    }

    /**
     * The set of LoRA adapters whose requests this step decodes: the one applied now while its
     * requests have work and no other set has waited {@value BatchEngine#LORA_QUANTUM} steps, else
     * the next set with work in slot order; null if no request has work.
     */
    Map<LoraAdapter, Float> group() {
        boolean current = false;
        Slot other = null;
        for (int k = 0; k < slots.length; k++) {
            Slot s = slots[(cursor + k) % slots.length];
            Run run = s.run;
            if (run == null || (run.last < 0 && !run.prefilling())) {
                continue;
            }
            if (run.loras.equals(applied)) {
                current = true;
            } else if (other == null) {
                other = s;
            }
        }
        if (other == null) {
            steps = 0;
            return current ? applied : null;
        }
        if (current && steps < BatchEngine.LORA_QUANTUM) {
            steps++;
            return applied;
        }
        steps = 0;
        cursor = (other.id + 1) % slots.length;
        return other.run.loras;
    }

    /**
     * Makes the context apply {@code loras}, keeping every slot's cache.
     *
     * @throws RuntimeException if that failed (e.g. an adapter was closed meanwhile)
     */
    void apply(Map<LoraAdapter, Float> loras) {
        if (!loras.equals(applied)) {
            context.port().switchLoras(loras);
            applied = loras;
        }
    }
}
