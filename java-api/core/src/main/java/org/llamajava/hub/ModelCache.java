package org.llamajava.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A models folder and how a {@link ModelReference} becomes a file in it: Hugging Face files go to
 * {@code ORG/REPO/PATH} inside it, URLs to their file name. A file is downloaded once (resumed if a
 * transfer breaks off, checked against the SHA-256 the hub gives, locked against other processes
 * pulling it into the same folder) and found there afterwards without a request.
 *
 * <p>{@link #fromEnvironment()} gives the folder {@code $LLAMA_JAVA_MODELS}, else
 * {@code ~/.llama-java/models}; the Hugging Face endpoint llama.cpp's {@code MODEL_ENDPOINT} (or
 * {@code HF_ENDPOINT}), by default {@link #DEFAULT_ENDPOINT}; and {@code HF_TOKEN}, sent for gated
 * models.
 *
 * <pre>{@code
 * Path file = ModelCache.fromEnvironment().pull(ModelReference.parse("ggml-org/models:Q8_0"), false,
 *         DownloadListener.NONE);
 * try (Model model = Model.load(file)) { ... }
 * }</pre>
 *
 * <p>Instances are immutable and safe to share between threads; two threads pulling the same file
 * into one folder download it once.
 */
public final class ModelCache {
    /** The Hugging Face endpoint when MODEL_ENDPOINT and HF_ENDPOINT are not set. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co/";

    private final Path dir;
    private final String endpoint;
    private final Downloader downloader;

    /**
     * A cache in {@code dir} that pulls Hugging Face references from {@code endpoint}.
     *
     * @param dir      the models folder (created on the first download)
     * @param endpoint the Hugging Face endpoint, e.g. {@link #DEFAULT_ENDPOINT}
     * @param token    a Hugging Face token sent for gated models, or null
     */
    public ModelCache(Path dir, String endpoint, String token) {
        this.dir = java.util.Objects.requireNonNull(dir, "dir");
        java.util.Objects.requireNonNull(endpoint, "endpoint");
        this.endpoint = endpoint.endsWith("/") ? endpoint : endpoint + "/";
        this.downloader = new Downloader(token);
    }

    /**
     * The cache the environment describes, in {@code modelsDir} if not null.
     *
     * @param modelsDir the models folder, or null for {@link #defaultDir()}
     * @return the cache
     */
    public static ModelCache fromEnvironment(Path modelsDir) {
        String endpoint = firstSet(System.getenv("MODEL_ENDPOINT"), System.getenv("HF_ENDPOINT"), DEFAULT_ENDPOINT);
        return new ModelCache(modelsDir != null ? modelsDir : defaultDir(), endpoint, System.getenv("HF_TOKEN"));
    }

    /**
     * The cache the environment describes.
     *
     * @return the cache in {@link #defaultDir()}
     */
    public static ModelCache fromEnvironment() {
        return fromEnvironment(null);
    }

    /**
     * The default models folder.
     *
     * @return {@code $LLAMA_JAVA_MODELS}, else {@code ~/.llama-java/models}
     */
    public static Path defaultDir() {
        String env = System.getenv("LLAMA_JAVA_MODELS");
        return env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".llama-java", "models");
    }

    private static String firstSet(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /**
     * The models folder.
     *
     * @return the folder
     */
    public Path dir() {
        return dir;
    }

    /**
     * The file {@code -m} names: an existing file; a reference, pulled first unless it is in the
     * folder already; a model's name in the folder (with or without {@code .gguf}); else the path as
     * given (the loader then says that it is missing).
     *
     * @param text     a path, a reference or a name
     * @param listener told about a download, if one is needed
     * @return the file
     */
    public Path locate(String text, DownloadListener listener) {
        Path asPath = pathOrNull(text);
        if (asPath != null && Files.exists(asPath)) {
            return asPath;
        }
        ModelReference ref = ModelReference.parse(text);
        if (ref != null) {
            return pull(ref, false, listener);
        }
        Path named = findByName(text);
        return named != null ? named : Path.of(text);
    }

    private static Path pathOrNull(String text) {
        try {
            return Path.of(text);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * A GGUF in the folder whose file name is {@code name} or {@code name.gguf}, or whose path inside
     * the folder is.
     *
     * @param name a file name or a path inside the folder, with or without {@code .gguf}
     * @return the file, or null
     */
    public Path findByName(String name) {
        if (name.isBlank() || !Files.isDirectory(dir)) {
            return null;
        }
        for (String n : new String[] {name, name + ".gguf"}) {
            Path p = pathOrNull(n);
            if (p != null && !p.isAbsolute() && Files.isRegularFile(dir.resolve(p).normalize())
                    && dir.resolve(p).normalize().startsWith(dir.normalize())) {
                return dir.resolve(p).normalize();
            }
        }
        return list().stream().filter(p -> {
            String f = p.getFileName().toString();
            return f.equals(name) || f.equals(name + ".gguf");
        }).findFirst().orElse(null);
    }

    /**
     * Every GGUF file in the folder.
     *
     * @return the files, sorted by their path inside the folder
     */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".gguf"))
                    .sorted(Comparator.comparing(p -> dir.relativize(p).toString())).toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the models folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Downloads the reference into the folder (unless it is there already, or {@code force}) and
     * returns its file. A split model ({@code NAME-00001-of-0000N.gguf}) is pulled whole, and its
     * first part returned (llama.cpp loads the others from it). When the Hugging Face endpoint cannot
     * be reached, an {@code ORG/REPO[:QUANT]} pulled before is found in the folder.
     *
     * @param ref      the reference
     * @param force    download again even if the file is there
     * @param listener told about each download
     * @return the file
     * @throws IllegalArgumentException for a file or repository that is not there, or refused
     * @throws IllegalStateException    when the endpoint cannot be reached, a transfer fails for good, or
     *     the download does not match its checksum (it is deleted)
     */
    public Path pull(ModelReference ref, boolean force, DownloadListener listener) {
        String sha = null;
        URI uri;
        Path target;
        switch (ref.kind()) {
            case URL -> {
                uri = URI.create(ref.text());
                target = dir.resolve(ref.file());
            }
            case HF_FILE -> {
                uri = resolveUri(ref.repo(), ref.file());
                target = dir.resolve(ref.repo()).resolve(ref.file()).normalize();
            }
            default -> {
                List<RepoFile> files;
                try {
                    files = repoFiles(ref.repo());
                } catch (IllegalStateException offline) {
                    Path cached = cachedRepoFile(ref);
                    if (cached != null) {
                        listener.note("offline: using " + cached);
                        return cached;
                    }
                    throw offline;
                }
                RepoFile f = chooseFile(ref, files);
                // a split model: every part (llama.cpp loads the others from the first)
                Path first = null;
                for (RepoFile part : splitParts(files, f)) {
                    Path t = fetch(resolveUri(ref.repo(), part.path()),
                            dir.resolve(ref.repo()).resolve(part.path()).normalize(), part.sha256(), ref, force, listener);
                    first = first == null ? t : first;
                }
                return first;
            }
        }
        return fetch(uri, target, sha, ref, force, listener);
    }

    private Path fetch(URI uri, Path target, String sha, ModelReference ref, boolean force, DownloadListener listener) {
        if (!target.startsWith(dir.normalize())) {
            throw new IllegalArgumentException("the reference " + ref.text() + " leads outside the models folder");
        }
        if (Files.isRegularFile(target) && !force) {
            return target;
        }
        if (force) {
            try {
                Files.deleteIfExists(target);
            } catch (IOException e) {
                throw new IllegalStateException("cannot replace " + target + ": " + e.getMessage(), e);
            }
        }
        return downloader.download(uri, target, sha, listener);
    }

    /** The parts of a split model ({@code NAME-0000K-of-0000N.gguf}) in order, or just the file. */
    private static List<RepoFile> splitParts(List<RepoFile> files, RepoFile first) {
        var m = SPLIT.matcher(first.path());
        if (!m.matches()) {
            return List.of(first);
        }
        String prefix = first.path().substring(0, first.path().length() - "00001-of-00000.gguf".length());
        String count = m.group(2);
        return files.stream().filter(f -> f.path().startsWith(prefix) && f.path().endsWith("-of-" + count + ".gguf"))
                .sorted(Comparator.comparing(RepoFile::path)).toList();
    }

    private URI resolveUri(String repo, String file) {
        return URI.create(endpoint + repo + "/resolve/main/" + file);
    }

    /**
     * The repository's files, from the Hugging Face API ({@code api/models/ORG/REPO/tree/main?recursive=true}).
     *
     * @param repo {@code ORG/REPO}
     * @return its files
     */
    public List<RepoFile> repoFiles(String repo) {
        URI api = URI.create(endpoint + "api/models/" + repo + "/tree/main?recursive=true");
        JsonNode json;
        try {
            json = JsonMapper.builder().build().readTree(downloader.getText(api));
        } catch (IOException e) {
            throw new IllegalArgumentException("the listing of " + repo + " is not JSON: " + e.getMessage(), e);
        }
        List<RepoFile> files = new ArrayList<>();
        for (JsonNode item : json) {
            if (!"file".equals(item.path("type").asText()) || !item.path("path").isTextual()) {
                continue;
            }
            JsonNode lfs = item.path("lfs");
            String oid = lfs.path("oid").asText(null);
            files.add(new RepoFile(item.path("path").asText(), item.path("size").asLong(-1),
                    oid != null && oid.matches("[0-9a-f]{64}") ? oid : null));
        }
        return files;
    }

    /**
     * The GGUF file of {@code ORG/REPO[:QUANT]} as llama.cpp's {@code -hf} picks it: the first
     * model file (not mmproj, imatrix, ...) whose name has the tag followed by {@code .} or
     * {@code -} (case-insensitive), by default Q4_K_M then Q8_0 then any; of a split model, the first part.
     *
     * @param ref an {@link ModelReference.Kind#HF_REPO} reference
     * @return the file
     * @throws IllegalArgumentException when the repository has no such file (the message lists its GGUF files)
     */
    public RepoFile chooseFile(ModelReference ref) {
        return chooseFile(ref, repoFiles(ref.repo()));
    }

    private static RepoFile chooseFile(ModelReference ref, List<RepoFile> files) {
        List<String> tags = ref.quant() != null ? List.of(ref.quant()) : List.of("Q4_K_M", "Q8_0");
        for (String tag : tags) {
            Pattern p = Pattern.compile(Pattern.quote(tag) + "[.-]", Pattern.CASE_INSENSITIVE);
            for (RepoFile f : files) {
                if (isModelFile(f.path()) && isFirstSplit(f.path()) && p.matcher(f.path()).find()) {
                    return f;
                }
            }
        }
        if (ref.quant() == null) {
            for (RepoFile f : files) {
                if (isModelFile(f.path()) && isFirstSplit(f.path())) {
                    return f;
                }
            }
        }
        List<String> ggufs = files.stream().map(RepoFile::path).filter(p -> p.endsWith(".gguf")).toList();
        throw new IllegalArgumentException("no GGUF model file" + (ref.quant() == null ? "" : " for " + ref.quant())
                + " in " + ref.repo() + (ggufs.isEmpty() ? "" : "; it has " + String.join(", ", ggufs)));
    }

    private Path cachedRepoFile(ModelReference ref) {
        Path repoDir = dir.resolve(ref.repo());
        return list().stream().filter(p -> p.startsWith(repoDir)).filter(p -> ref.quant() == null
                || p.getFileName().toString().toUpperCase(Locale.ROOT).contains(ref.quant().toUpperCase(Locale.ROOT)))
                .findFirst().orElse(null);
    }

    private static boolean isModelFile(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        return name.endsWith(".gguf") && Stream.of("mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-")
                .noneMatch(name::contains);
    }

    private static final Pattern SPLIT = Pattern.compile(".*-(\\d{5})-of-(\\d{5})\\.gguf$");

    private static boolean isFirstSplit(String path) {
        var m = SPLIT.matcher(path);
        return !m.matches() || Integer.parseInt(m.group(1)) == 1;
    }
}
