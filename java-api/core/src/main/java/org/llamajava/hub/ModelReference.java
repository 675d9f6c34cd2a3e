package org.llamajava.hub;

import java.net.URI;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A reference to a model file that {@link ModelCache} can pull: an http(s) URL, a Hugging Face file
 * {@code hf:ORG/REPO/PATH/FILE.gguf}, or a Hugging Face repository {@code ORG/REPO[:QUANT]} whose
 * GGUF file is chosen as llama.cpp's {@code -hf} chooses it. The CLI's {@code pull} and {@code -m},
 * and llama-java-spark's model sources, take these.
 *
 * @param kind  which of the three
 * @param text  as written
 * @param repo  {@code ORG/REPO} (Hugging Face kinds), else null
 * @param file  the file's path in the repository ({@link Kind#HF_FILE}), or the URL's last path
 *              segment ({@link Kind#URL}); null for {@link Kind#HF_REPO}
 * @param quant the {@code :QUANT} tag of {@link Kind#HF_REPO}, or null
 */
public record ModelReference(Kind kind, String text, String repo, String file, String quant) {
    /** The kinds of reference. */
    public enum Kind {
        /** An http(s) URL of the file. */
        URL,
        /** {@code hf:ORG/REPO/PATH/FILE.gguf}: one file of a Hugging Face repository. */
        HF_FILE,
        /** {@code ORG/REPO[:QUANT]}: a Hugging Face repository, whose file is chosen by the tag. */
        HF_REPO
    }

    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]*";
    private static final Pattern HF_FILE = Pattern.compile("hf:(" + NAME + "/" + NAME + ")/(.+\\.gguf)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern HF_REPO = Pattern.compile("(?:hf:)?(" + NAME + "/" + NAME + ")(?::([A-Za-z0-9_.-]+))?");

    /**
     * The reference in {@code text}, or null when it is none (then it is a file path or a name).
     * {@code ORG/REPO} forms that end in {@code .gguf} are file paths.
     *
     * @param text a reference, a path or a name
     * @return the reference, or null when {@code text} is not one
     * @throws IllegalArgumentException when {@code text} looks like a reference but is not a valid one
     *     (a URL that names no file, a {@code hf:} form that is neither kind, a path with {@code ..})
     */
    public static ModelReference parse(String text) {
        String t = text.strip();
        if (t.startsWith("http://") || t.startsWith("https://")) {
            String path;
            try {
                path = URI.create(t).getPath();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a valid URL: " + t, e);
            }
            String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
            if (name.isEmpty()) {
                throw new IllegalArgumentException("the URL " + t + " names no file: give the GGUF file's URL");
            }
            return new ModelReference(Kind.URL, t, null, name, null);
        }
        Matcher m = HF_FILE.matcher(t);
        if (m.matches()) {
            if (m.group(2).contains("..")) {
                throw new IllegalArgumentException("a file path in a repository cannot contain '..': " + t);
            }
            return new ModelReference(Kind.HF_FILE, t, m.group(1), m.group(2), null);
        }
        m = HF_REPO.matcher(t);
        if (m.matches() && !t.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf") && !m.group(1).contains("..")) {
            return new ModelReference(Kind.HF_REPO, t, m.group(1), null, m.group(2));
        }
        if (t.startsWith("hf:")) {
            throw new IllegalArgumentException("'" + t + "' is not a Hugging Face reference: use hf:ORG/REPO/FILE.gguf"
                    + " or ORG/REPO[:QUANT]");
        }
        return null;
    }
}
