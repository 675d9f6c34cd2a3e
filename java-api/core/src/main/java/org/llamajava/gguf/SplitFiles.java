package org.llamajava.gguf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Models split into several GGUF files ({@code NAME-00001-of-00003.gguf}, as llama.cpp's
 * {@code llama-gguf-split} writes them): finds the parts as llama.cpp's loader does and checks each
 * (present, GGUF, its {@code split.no} and {@code split.count}) before llama.cpp opens them.
 * {@code Model.load} and {@code Quantizer} read split models through it.
 */
public final class SplitFiles {
    /** llama.cpp's split naming (llama_split_path): PREFIX-%05d-of-%05d.gguf. */
    private static final Pattern NAME = Pattern.compile("(.*)-(\\d{5})-of-(\\d{5})\\.gguf");

    private SplitFiles() {}

    /**
     * Every part of the model whose first (or only) file is {@code first}: just {@code first} for
     * a model in one file, otherwise the parts in order, each checked.
     *
     * @throws GgufException for a part that is missing, not GGUF, or of another split
     */
    public static List<Path> parts(Path first) {
        GgufFile head = GgufFile.read(first);
        int count = count(head);
        if (count <= 1) {
            return List.of(first);
        }
        int no = number(head);
        if (no != 0) {
            throw new GgufException(first.toAbsolutePath() + " is part " + (no + 1) + " of " + count
                    + " of a split model; load its first part (-00001-of-" + String.format("%05d", count) + ".gguf)");
        }
        Matcher m = NAME.matcher(first.getFileName().toString());
        if (!m.matches() || Integer.parseInt(m.group(2)) != 1 || Integer.parseInt(m.group(3)) != count) {
            throw new GgufException(first.toAbsolutePath() + " is the first of " + count + " parts of a split model, but"
                    + " is not named PREFIX-00001-of-" + String.format("%05d", count) + ".gguf, so its other parts cannot be"
                    + " found: rename the parts, or load them with Model.loadSplits");
        }
        List<Path> parts = new ArrayList<>(count);
        parts.add(first);
        for (int i = 2; i <= count; i++) {
            parts.add(first.resolveSibling(String.format("%s-%05d-of-%05d.gguf", m.group(1), i, count)));
        }
        check(parts, head);
        return List.copyOf(parts);
    }

    /**
     * Checks an explicit list of parts: the first holds the model's metadata, and each other part
     * is the split part at its position, of the same split count.
     */
    public static void check(List<Path> parts) {
        if (parts == null || parts.isEmpty()) {
            throw new IllegalArgumentException("no model parts given");
        }
        for (Path p : parts) {
            if (p == null) {
                throw new IllegalArgumentException("a model part path is null");
            }
        }
        GgufFile head = GgufFile.read(parts.get(0));
        int count = count(head);
        if (parts.size() > 1 || count > 1) {
            if (count != parts.size()) {
                throw new GgufException(parts.get(0).toAbsolutePath() + " is the first of " + Math.max(count, 1)
                        + " parts (split.count), but " + parts.size() + " parts were given");
            }
            if (number(head) != 0) {
                throw new GgufException(parts.get(0).toAbsolutePath() + " is part " + (number(head) + 1) + " of " + count
                        + "; the first path must be the first part");
            }
            check(parts, head);
        }
    }

    private static void check(List<Path> parts, GgufFile head) {
        int count = parts.size();
        long tensors = head.tensors().size();
        for (int i = 1; i < count; i++) {
            Path p = parts.get(i);
            GgufFile part;
            try {
                part = GgufFile.read(p);
            } catch (GgufException e) {
                throw new GgufException("part " + (i + 1) + " of " + count + " of the split model "
                        + parts.get(0).getFileName() + " is missing or unreadable: " + e.getMessage(), e);
            }
            if (count(part) != count || number(part) != i) {
                throw new GgufException(p.toAbsolutePath() + " does not belong at part " + (i + 1) + " of " + count
                        + " of " + parts.get(0).getFileName() + ": its split.no is " + (number(part) + 1) + " and its"
                        + " split.count " + count(part));
            }
            tensors += part.tensors().size();
        }
        Object total = head.metadata().get("split.tensors.count");
        if (total instanceof Number n && n.longValue() != tensors) {
            throw new GgufException("the " + count + " parts of " + parts.get(0).getFileName() + " hold " + tensors
                    + " tensors, but split.tensors.count says " + n + ": a part is from another split");
        }
    }

    private static int count(GgufFile f) {
        return f.metadata().get("split.count") instanceof Number n ? n.intValue() : 0;
    }

    private static int number(GgufFile f) {
        return f.metadata().get("split.no") instanceof Number n ? n.intValue() : -1;
    }
}
