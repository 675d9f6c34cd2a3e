package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.llamajava.bindings.llama_context;
import org.llamajava.internal.NativeErrors;
import org.llamajava.internal.StateFile;
import org.llamajava.internal.StateFileException;

/**
 * A {@link Sequence}'s tokens and KV state in llama-java's state-file format (kind
 * {@value #KIND}): what {@link Sequence#saveState()} writes and {@link Sequence#loadState} reads.
 */
final class SequenceState {
    /** The kind of a sequence's files in llama-java's state-file format. */
    static final String KIND = "sequence";

    private SequenceState() {}

    /** The tokens and KV state in llama-java's state-file format, kind {@value #KIND}. */
    static byte[] save(Sequence s) {
        s.enter();
        try {
            for (int i = 0; i < s.length; i++) {
                if (s.history[i] < 0) {
                    throw new UnsupportedOperationException("this sequence holds image or audio embeddings (from a"
                            + " Projector), which cannot be saved yet: clear() it, or save before evaluating media");
                }
            }
            long size = llama_state_seq_get_size(s.ctx.handle(), s.id);
            if (size > Integer.MAX_VALUE - 1024) {
                throw new LlamaException("the sequence's KV state is " + size + " bytes; at most 2 GiB can be saved");
            }
            byte[] kv;
            try (BytePointer buf = new BytePointer(Math.max(1, size))) {
                llama_context c = s.ctx.handle();
                long n = s.ctx.guarded("reading a sequence's state", () -> llama_state_seq_get_data(c, buf, size, s.id));
                if (n != size) {
                    throw new LlamaException("llama.cpp wrote " + n + " of " + size + " bytes of sequence state");
                }
                kv = new byte[(int) n];
                buf.get(kv);
            }
            byte[] tokens = StateFile.section(out -> {
                out.writeInt(s.length);
                for (int i = 0; i < s.length; i++) {
                    out.writeInt(s.history[i]);
                }
            });
            Map<String, byte[]> sections = new LinkedHashMap<>();
            sections.put("tokens", tokens);
            sections.put("kv", kv);
            return StateFile.write(KIND, s.ctx.model().fingerprint(), sections);
        } catch (StateFileException e) {
            throw new LlamaException(e.getMessage(), e);
        } finally {
            s.ctx.exit();
        }
    }

    /** Replaces the sequence's tokens and KV state with those {@code all} holds (read from {@code source}). */
    static void restore(Sequence s, byte[] all, String source) {
        StateFile file;
        try {
            file = StateFile.read(all, KIND, source);
        } catch (StateFileException e) {
            throw new LlamaException(e.getMessage(), e);
        }
        s.enter();
        try (DataInputStream in = file.open("tokens")) {
            if (!file.fingerprint().equals(s.ctx.model().fingerprint())) {
                throw new LlamaException("sequence state " + source + " was saved from another model ("
                        + file.fingerprint() + "), not " + s.ctx.model().fingerprint());
            }
            int n = in.readInt();
            if (n < 0 || n > s.ctx.contextSize()) {
                throw new LlamaException("sequence state " + source + " holds " + n + " tokens; this context holds "
                        + s.ctx.contextSize());
            }
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) {
                tokens[i] = in.readInt();
            }
            s.vocab.checkTokens(tokens);
            byte[] kv = file.section("kv");
            s.cut(0);
            try (BytePointer buf = new BytePointer(kv)) {
                llama_context c = s.ctx.handle();
                long used = s.ctx.guarded("restoring a sequence's state", () -> llama_state_seq_set_data(c, buf, kv.length, s.id));
                if (used == 0) {
                    s.cut(0);
                    throw new LlamaException("llama.cpp could not restore the sequence state from " + source
                            + NativeErrors.suffix());
                }
            }
            s.history = Arrays.copyOf(tokens, Math.max(64, n));
            s.length = n;
        } catch (IOException e) {
            throw new LlamaException("corrupt sequence state " + source + ": " + e.getMessage(), e);
        } catch (StateFileException e) {
            throw new LlamaException(e.getMessage(), e);
        } finally {
            s.ctx.exit();
        }
    }
}
