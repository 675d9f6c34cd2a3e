package org.llamajava.batch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

/**
 * A slot's saved cache, in llama.cpp's sequence state file layout
 * ({@code llama_state_seq_save_file}): the magic {@code ggsq}, the version (3), the number of
 * token words, the token words, then the sequence's KV state as {@code llama_state_seq_get_data}
 * gives it. The token words are llama-server's packed form (-1, a version, the count, the tokens);
 * a plain token list, as older servers wrote, is read too. Little-endian, as llama.cpp writes it
 * on the machines it runs on.
 */
final class SlotFile {
    static final int MAGIC = 0x67677371; // 'ggsq'
    static final int VERSION = 3;
    /** llama-server's packed token list starts with LLAMA_TOKEN_NULL, then this version. */
    static final int PACKED_VERSION = 1;
    /** The largest file read (the state must fit a Java array). */
    static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    /** What a save or restore moved: tokens, and bytes of the file. */
    record Saved(int tokens, long bytes) {}

    /** A read file: its tokens, its state, its size. */
    record Read(int[] tokens, byte[] state, long bytes) {}

    private SlotFile() {}

    /** Writes {@code tokens} and {@code state} to {@code file} (through a temporary file, then moved); the bytes written. */
    static long write(Path file, int[] tokens, byte[] state) {
        int words = 3 + tokens.length;
        ByteBuffer head = ByteBuffer.allocate(12 + 4 * words).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(MAGIC).putInt(VERSION).putInt(words);
        head.putInt(-1).putInt(PACKED_VERSION).putInt(tokens.length);
        for (int t : tokens) {
            head.putInt(t);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (var out = Files.newOutputStream(tmp)) {
                out.write(head.array());
                out.write(state);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write failed already
            }
            throw new UncheckedIOException("cannot write the slot file " + file + ": " + e.getMessage(), e);
        }
        return head.capacity() + (long) state.length;
    }

    /**
     * Reads a slot file, checking its header and that its tokens fit a slot of {@code perSlot}
     * tokens and a vocabulary of {@code vocabSize}.
     *
     * @throws IllegalArgumentException for a file that is not a sequence state file, or does not fit
     */
    static Read read(Path file, int perSlot, int vocabSize) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new IllegalArgumentException(file.getFileName() + " has " + size + " bytes: too large for a slot");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the slot file " + file + ": " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || b.getInt() != MAGIC) {
            throw new IllegalArgumentException(file.getFileName() + " is not a saved slot (no llama.cpp sequence state"
                    + " header)");
        }
        int version = b.getInt();
        if (version != VERSION) {
            throw new IllegalArgumentException(file.getFileName() + " has sequence state version " + version
                    + "; this build reads version " + VERSION);
        }
        long words = Integer.toUnsignedLong(b.getInt());
        if (words * 4 > b.remaining()) {
            throw new IllegalArgumentException(file.getFileName() + " is truncated: it names " + words + " tokens");
        }
        int[] raw = new int[(int) words];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = b.getInt();
        }
        int[] tokens = raw;
        if (raw.length >= 3 && raw[0] == -1) { // llama-server's packed form
            int n = raw[2];
            if (n < 0 || n > raw.length - 3) {
                throw new IllegalArgumentException(file.getFileName() + " has a malformed token list");
            }
            tokens = Arrays.copyOfRange(raw, 3, 3 + n);
        }
        if (tokens.length > perSlot) {
            throw new IllegalArgumentException(file.getFileName() + " holds " + tokens.length + " tokens; a slot of"
                    + " this engine holds " + perSlot);
        }
        for (int t : tokens) {
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException(file.getFileName() + " holds token " + t + ", which is not in this"
                        + " model's vocabulary (it was saved with another model, or holds media)");
            }
        }
        byte[] state = Arrays.copyOfRange(bytes, b.position(), bytes.length);
        return new Read(tokens, state, bytes.length);
    }
}
