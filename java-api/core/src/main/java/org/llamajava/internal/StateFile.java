package org.llamajava.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * llama-java's one state-file format, shared by every object that saves state (a sequence's
 * tokens and KV cache, a chat's messages around it):
 *
 * <pre>
 * "LLJSTATE"  u16 version  UTF kind  UTF model-fingerprint  u32 section-count
 * { UTF name  u64 length  bytes }*   u64 CRC-32 of everything before it
 * </pre>
 *
 * <p>Sections are named, so a kind can add one without breaking older readers of the others. A
 * file is checked whole (magic, version, kind, checksum) before any section is read.
 */
public final class StateFile {
    private static final byte[] MAGIC = "LLJSTATE".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    /** The per-kind formats this one replaced. */
    private static final Map<String, String> OLD_MAGICS = Map.of("LLJSEQ01", "sequence", "LLJCHAT1", "chat");

    private final String kind;
    private final String fingerprint;
    private final Map<String, byte[]> sections;
    private final String source;

    private StateFile(String kind, String fingerprint, Map<String, byte[]> sections, String source) {
        this.kind = kind;
        this.fingerprint = fingerprint;
        this.sections = sections;
        this.source = source;
    }

    /** Writes what goes into one section. */
    @FunctionalInterface
    public interface SectionWriter {
        void write(DataOutputStream out) throws IOException;
    }

    /** A section's bytes, as {@code writer} writes them. */
    public static byte[] section(SectionWriter writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writer.write(out);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e); // cannot happen
        }
        return bytes.toByteArray();
    }

    /**
     * A whole file of {@code kind}, with its sections in the order given.
     *
     * @throws StateFileException if the file would be larger than 2 GiB
     */
    public static byte[] write(String kind, String fingerprint, Map<String, byte[]> sections) {
        long size = 64;
        for (Map.Entry<String, byte[]> e : sections.entrySet()) {
            size += e.getKey().length() + 16L + e.getValue().length;
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new StateFileException("the " + kind + " state is " + size + " bytes; at most 2 GiB can be saved");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) size);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeShort(VERSION);
            out.writeUTF(kind);
            out.writeUTF(fingerprint);
            out.writeInt(sections.size());
            for (Map.Entry<String, byte[]> e : sections.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue().length);
                out.write(e.getValue());
            }
            out.flush();
            CRC32 crc = new CRC32();
            crc.update(bytes.toByteArray());
            out.writeLong(crc.getValue());
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e); // cannot happen
        }
        return bytes.toByteArray();
    }

    /**
     * Reads a file that must be of {@code kind}; {@code source} names it in messages.
     *
     * @throws StateFileException if it is not a llama-java state file, is of another kind or a newer
     *     version, or is corrupt or truncated
     */
    public static StateFile read(byte[] all, String kind, String source) {
        if (all.length >= MAGIC.length) {
            String old = OLD_MAGICS.get(new String(all, 0, MAGIC.length, StandardCharsets.ISO_8859_1));
            if (old != null) {
                throw new StateFileException(source + " is a " + old + " state in the format of an earlier llama-java,"
                        + " which this version does not read: save it again");
            }
        }
        if (all.length < MAGIC.length + 8 || !Arrays.equals(Arrays.copyOf(all, MAGIC.length), MAGIC)) {
            throw new StateFileException("not a llama-java " + kind + " state: " + source);
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        if (crc.getValue() != ByteBuffer.wrap(all, all.length - 8, 8).getLong()) {
            throw new StateFileException("corrupt or truncated " + kind + " state (checksum mismatch): " + source);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, MAGIC.length,
                all.length - 8 - MAGIC.length))) {
            int version = in.readUnsignedShort();
            if (version > VERSION) {
                throw new StateFileException(source + " was written by a newer llama-java (state format " + version
                        + "; this version reads " + VERSION + ")");
            }
            String k = in.readUTF();
            if (!k.equals(kind)) {
                throw new StateFileException(source + " holds a " + k + " state, not a " + kind + " state");
            }
            String fingerprint = in.readUTF();
            int n = in.readInt();
            if (n < 0 || n > 1024) {
                throw new IOException("bad section count " + n);
            }
            Map<String, byte[]> sections = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                long size = in.readLong();
                if (size < 0 || size > all.length) {
                    throw new IOException("bad size " + size + " of section " + name);
                }
                byte[] data = in.readNBytes((int) size);
                if (data.length != size) {
                    throw new IOException("section " + name + " is truncated");
                }
                sections.put(name, data);
            }
            return new StateFile(k, fingerprint, Collections.unmodifiableMap(sections), source);
        } catch (IOException e) {
            throw new StateFileException("corrupt " + kind + " state " + source + ": " + e.getMessage(), e);
        }
    }

    /** The kind of state, e.g. {@code sequence}. */
    public String kind() {
        return kind;
    }

    /** The fingerprint of the model the state was saved from. */
    public String fingerprint() {
        return fingerprint;
    }

    /**
     * A section's bytes.
     *
     * @throws StateFileException if the state has no such section
     */
    public byte[] section(String name) {
        byte[] b = sections.get(name);
        if (b == null) {
            throw new StateFileException("corrupt " + kind + " state " + source + ": it has no '" + name + "' section");
        }
        return b;
    }

    /** Whether the state has this section. */
    public boolean has(String name) {
        return sections.containsKey(name);
    }

    /**
     * A section to read from.
     *
     * @throws StateFileException if the state has no such section
     */
    public DataInputStream open(String name) {
        return new DataInputStream(new ByteArrayInputStream(section(name)));
    }
}
