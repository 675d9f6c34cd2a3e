package org.llamajava.gguf;

/**
 * Thrown for files that are not readable, well-formed GGUF (missing, a directory, empty, bad magic,
 * truncated or corrupt), for metadata that llama.cpp would assert on (aborting the process) while
 * loading such a file as a model, and for GGUF files that cannot be written. The root package's
 * APIs that read GGUF files ({@code Model}, {@code LoraAdapter}, {@code ControlVector},
 * {@code Quantizer}) report the same failures as {@code org.llamajava.LlamaException} with the
 * same message, and this exception as the cause.
 */
public class GgufException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
