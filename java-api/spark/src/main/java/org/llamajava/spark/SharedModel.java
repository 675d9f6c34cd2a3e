package org.llamajava.spark;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.llamajava.Model;
import org.llamajava.ModelParams;

/**
 * One loaded model of an executor JVM, its users (a count of leases) and the shared objects made
 * over it (a BatchEngine, an Embedder's batcher, ...), one per set of parameters.
 */
final class SharedModel {
    /** What identifies a loaded model: the local file and the load parameters. */
    record Key(Path file, ModelParams params) {}

    final Key key;
    final String source;
    private Model model;
    private int refs;
    private final Map<Object, AutoCloseable> services = new LinkedHashMap<>();

    SharedModel(Key key, String source) {
        this.key = key;
        this.source = source;
    }

    /** Loads the model if it is not yet loaded (under this entry's lock: other models load in parallel). */
    synchronized Model model() {
        if (model == null || model.isClosed()) {
            model = Model.load(key.file(), key.params());
            ExecutorModels.countLoad();
        }
        return model;
    }

    synchronized void retain() {
        refs++;
    }

    synchronized void release() {
        refs--;
    }

    synchronized int refs() {
        return refs;
    }

    /** The shared object for {@code key}, made by {@code make} the first time. */
    @SuppressWarnings("unchecked")
    synchronized <S extends AutoCloseable> S service(Object serviceKey, Function<Model, S> make) {
        AutoCloseable s = services.get(serviceKey);
        if (s == null) {
            s = make.apply(model());
            services.put(serviceKey, s);
        }
        return (S) s;
    }

    synchronized Iterable<AutoCloseable> services() {
        return java.util.List.copyOf(services.values());
    }

    /** Closes the shared objects, then the model. */
    synchronized void close() {
        for (AutoCloseable s : services.values()) {
            try {
                s.close();
            } catch (Exception ignored) {
                // a native object's close does not fail; go on with the others
            }
        }
        services.clear();
        if (model != null) {
            model.close();
            model = null;
        }
    }

    synchronized boolean isLoaded() {
        return model != null && !model.isClosed();
    }
}
