package org.llamajava.langchain4j;

import java.nio.file.Path;
import java.util.function.Function;
import org.llamajava.Model;

/** An adapter's model: a path the adapter loads and owns, or a loaded model it shares. */
final class ModelSource {
    private ModelSource() {}

    /**
     * Creates an adapter over the model: loads {@code path} (closed again if creating fails) or
     * uses {@code model}; exactly one must be given.
     */
    static <T> T open(Path path, Model model, Function<Model, T> create) {
        if ((path == null) == (model == null)) {
            throw new IllegalArgumentException("give the builder either modelPath(...) or model(...)");
        }
        Model m = model != null ? model : Model.load(path);
        try {
            return create.apply(m);
        } catch (RuntimeException e) {
            if (model == null) {
                m.close();
            }
            throw e;
        }
    }
}
