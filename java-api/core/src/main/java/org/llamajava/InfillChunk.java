package org.llamajava;

/**
 * A piece of extra context for {@link Infill}: another file (or a snippet of one) of the project,
 * as llama-server's {@code input_extra} entries.
 *
 * @param filename the file's name (llama-server's default is {@code tmp})
 * @param text     its text
 */
public record InfillChunk(String filename, String text) {
    /** Checks the components. */
    public InfillChunk {
        if (filename == null || text == null) {
            throw new IllegalArgumentException("filename and text are required (llama-server's default filename is \"tmp\")");
        }
    }
}
