package org.llamajava;

import java.nio.file.Path;
import org.llamajava.gguf.GgufException;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.SplitFiles;

/**
 * The root package's reads of GGUF files: {@link GgufFile}'s, with a {@link GgufException}
 * reported as the {@link LlamaException} that {@link Model}, {@link LoraAdapter},
 * {@link ControlVector} (and {@code quantize.Quantizer}, the same way) throw (the same message, the {@code GgufException}
 * as its cause).
 */
final class GgufFiles {
    private GgufFiles() {}

    /** {@link GgufFile#checkReadableGguf}. */
    static void checkReadable(Path path) {
        try {
            GgufFile.checkReadableGguf(path);
        } catch (GgufException e) {
            throw asLlamaException(e);
        }
    }

    /** {@link GgufFile#read}. */
    static GgufFile read(Path path) {
        try {
            return GgufFile.read(path);
        } catch (GgufException e) {
            throw asLlamaException(e);
        }
    }

    /** {@link GgufFile#checkLoadable}. */
    static void checkLoadable(GgufFile gguf, boolean vocabOnly) {
        try {
            gguf.checkLoadable(vocabOnly);
        } catch (GgufException e) {
            throw asLlamaException(e);
        }
    }

    /** {@link SplitFiles#parts}. */
    static java.util.List<Path> splitParts(Path first) {
        try {
            return SplitFiles.parts(first);
        } catch (GgufException e) {
            throw asLlamaException(e);
        }
    }

    /** {@link SplitFiles#check}. */
    static void checkSplit(java.util.List<Path> parts) {
        try {
            SplitFiles.check(parts);
        } catch (GgufException e) {
            throw asLlamaException(e);
        }
    }

    /** The {@link LlamaException} reporting {@code e}: its message, and {@code e} as the cause. */
    static LlamaException asLlamaException(GgufException e) {
        return new LlamaException(e.getMessage(), e);
    }
}
