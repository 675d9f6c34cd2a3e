package org.llamajava.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.llamajava.hub.DownloadListener;
import org.llamajava.hub.ModelCache;
import org.llamajava.hub.ModelReference;

/**
 * Turns a {@link ModelSpec#source()} into a local file on this executor: a local path as is, a
 * file of {@code SparkContext.addFile} through {@link SparkFiles#get}, a Hugging Face reference
 * ({@code ORG/REPO[:QUANT]}, {@code hf:ORG/REPO/FILE.gguf}) pulled once into the local cache by the
 * core's {@link ModelCache} (checked against the hub's SHA-256), anything else through Hadoop's
 * {@link FileSystem} (HDFS, S3A, GCS, ABFS, HTTP, ... whatever the cluster configures), copied once
 * into the local cache. Every form is also checked against the SHA-256 the user gives.
 */
final class ModelFiles {
    /** The prefix of a file given to {@code SparkContext.addFile}. */
    static final String SPARK_FILES = "sparkfiles:";

    private ModelFiles() {}

    /** The local copy of {@code spec}'s file (copying it on first use). */
    static Path localFile(ModelSpec spec) {
        String s = spec.source().strip();
        Path local;
        ModelReference ref = s.startsWith(SPARK_FILES) ? null : hubReference(s);
        if (s.startsWith(SPARK_FILES)) {
            local = Path.of(SparkFiles.get(s.substring(SPARK_FILES.length())));
        } else if (ref != null) {
            local = hub().pull(ref, false, DownloadListener.NONE);
        } else if (isLocal(s)) {
            local = s.startsWith("file:") ? Path.of(URI.create(s)) : Path.of(s);
        } else {
            local = copyToCache(s, spec.sha256());
            return local; // checked while copying
        }
        if (!Files.isRegularFile(local)) {
            throw new IllegalArgumentException("model file not found on this executor: " + local + " (from "
                    + s + ")");
        }
        if (spec.sha256() != null) {
            check(local, spec.sha256(), s);
        }
        return local;
    }

    /**
     * A Hugging Face reference, unless {@code s} is a file that exists here (a relative path such as
     * {@code models/x} could read as {@code ORG/REPO}): URLs stay with Hadoop's FileSystem.
     */
    private static ModelReference hubReference(String s) {
        ModelReference ref = ModelReference.parse(s);
        if (ref == null || ref.kind() == ModelReference.Kind.URL) {
            return null;
        }
        try {
            if (Files.exists(Path.of(s))) {
                return null;
            }
        } catch (RuntimeException notAPath) {
            // not a path on this system: a reference
        }
        return ref;
    }

    /**
     * The cache Hugging Face references are pulled into: {@code CACHE_DIR/hub}, from
     * {@code spark.llamajava.modelEndpoint}, else {@code $MODEL_ENDPOINT} or {@code $HF_ENDPOINT} (as
     * llama.cpp), else Hugging Face; with {@code $HF_TOKEN} for gated models (set it on the executors
     * with {@code spark.executorEnv.HF_TOKEN}).
     */
    static ModelCache hub() {
        SparkEnv env = SparkEnv.get();
        String endpoint = env == null ? null : env.conf().get("spark.llamajava.modelEndpoint", null);
        for (String e : new String[] {endpoint, System.getenv("MODEL_ENDPOINT"), System.getenv("HF_ENDPOINT")}) {
            if (e != null && !e.isBlank()) {
                return new ModelCache(cacheDir().resolve("hub"), e.strip(), System.getenv("HF_TOKEN"));
            }
        }
        return new ModelCache(cacheDir().resolve("hub"), ModelCache.DEFAULT_ENDPOINT, System.getenv("HF_TOKEN"));
    }

    private static boolean isLocal(String s) {
        if (s.startsWith("file:")) {
            return true;
        }
        int colon = s.indexOf(':');
        int slash = s.indexOf('/');
        // no scheme (or a Windows drive letter): a local path
        return colon < 0 || (slash >= 0 && slash < colon) || colon == 1;
    }

    /** The cache folder: {@code spark.llamajava.cacheDir}, else ~/.cache/llama-java/spark. */
    static Path cacheDir() {
        SparkEnv env = SparkEnv.get();
        String dir = env == null ? null : env.conf().get("spark.llamajava.cacheDir", null);
        return dir != null ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".cache", "llama-java", "spark");
    }

    private static Path copyToCache(String uri, String sha256) {
        String name = uri.substring(uri.lastIndexOf('/') + 1);
        if (name.isEmpty() || name.contains("?")) {
            name = "model.gguf";
        }
        String key = sha256 != null ? sha256 : hex(digest(uri.getBytes(StandardCharsets.UTF_8)));
        Path target = cacheDir().resolve(key.substring(0, 16)).resolve(name);
        synchronized (ModelFiles.class) { // one copy per JVM; a rename makes it whole or absent
            if (Files.isRegularFile(target)) {
                return target;
            }
            try {
                Files.createDirectories(target.getParent());
                Path part = Files.createTempFile(target.getParent(), name, ".part");
                try {
                    Configuration conf = SparkEnv.get() != null
                            ? SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf()) : new Configuration();
                    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
                    FileSystem fs = p.getFileSystem(conf);
                    try (InputStream in = fs.open(p)) {
                        Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                    }
                    if (sha256 != null) {
                        check(part, sha256, uri);
                    }
                    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(part);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy the model " + uri + " to " + target + ": " + e, e);
            }
            return target;
        }
    }

    private static void check(Path file, String expected, String source) {
        String actual = sha256(file);
        if (!actual.equals(expected)) {
            throw new IllegalStateException("checksum mismatch for the model " + source + ": expected SHA-256 "
                    + expected + ", got " + actual);
        }
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return hex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] digest(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
