package org.llamajava.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Downloads one file over HTTP(S) with {@link HttpClient}: redirects followed, into
 * {@code FILE.part} first, resuming a partial file with a {@code Range} request (also after a
 * transfer breaks off, up to {@link #ATTEMPTS} times), checked against a SHA-256 when the source
 * gives one (the caller's, or Hugging Face's {@code X-Linked-Etag}/{@code ETag} of an LFS file),
 * and renamed to FILE only when complete and correct. While it runs it holds a lock on
 * {@code FILE.lock}, so that processes sharing a models folder (executors on one host, say) download
 * a file once: the others wait, then find it there.
 */
final class Downloader {
    /** Tries per download: the first, and resumes after broken transfers. */
    static final int ATTEMPTS = 5;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** One monitor per target file in this JVM. */
    private static final java.util.concurrent.ConcurrentMap<Path, Object> JVM_LOCKS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private volatile HttpClient http;
    private final String token;

    Downloader(String token) {
        this.token = token == null || token.isBlank() ? null : token.strip();
    }

    /**
     * The HTTP client, made on the first request: most caches only find files already there, and a
     * client sets up TLS (some 300 classes and the security providers) in every process that makes one.
     */
    private HttpClient http() {
        HttpClient h = http;
        if (h == null) {
            synchronized (this) {
                h = http;
                if (h == null) {
                    h = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                            .connectTimeout(Duration.ofSeconds(20)).build();
                    http = h;
                }
            }
        }
        return h;
    }

    /** The body of a GET as text (for API calls); errors as {@link #get} reports them. */
    String getText(URI uri) {
        HttpResponse<String> r;
        try {
            r = http().send(request(uri).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw unreachable(uri, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        check(uri, r.statusCode());
        return r.body();
    }

    /**
     * Downloads {@code uri} to {@code target} (resuming {@code target.part} if there is one), checks it
     * against {@code sha256} (null: the source's, if it gives one) and returns the target.
     */
    Path download(URI uri, Path target, String sha256, DownloadListener listener) {
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create the models folder " + target.getParent() + ": "
                    + e.getMessage(), e);
        }
        Path lockFile = target.resolveSibling(target.getFileName() + ".lock");
        // a FileLock is held by the whole JVM (a second one in it throws): threads queue here first
        Object jvmLock = JVM_LOCKS.computeIfAbsent(target.toAbsolutePath().normalize(), k -> new Object());
        synchronized (jvmLock) {
            return downloadExclusive(uri, target, sha256, listener, lockFile);
        }
    }

    private Path downloadExclusive(URI uri, Path target, String sha256, DownloadListener listener, Path lockFile) {
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            if (Files.isRegularFile(target)) {
                return target; // another process finished it while this one waited
            }
            return downloadLocked(uri, target, sha256, listener);
        } catch (IOException e) {
            throw new IllegalStateException("cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
    }

    private Path downloadLocked(URI uri, Path target, String sha256, DownloadListener listener) {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        String expected = sha256 == null ? null : sha256.toLowerCase(Locale.ROOT);
        IOException last = null;
        listener.started(uri, target);
        try {
            for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                try {
                    String given = transfer(uri, part, listener);
                    if (expected == null) {
                        expected = given;
                    }
                    last = null;
                    break;
                } catch (IOException e) {
                    last = e;
                    if (isUnreachable(e) && attempt == 1 && !Files.exists(part)) {
                        throw unreachable(uri, e);
                    }
                }
            }
        } finally {
            listener.ended();
        }
        if (last != null) {
            throw new IllegalStateException("the download of " + uri + " broke off " + ATTEMPTS + " times ("
                    + last.getMessage() + "); run the same command again to resume it from " + part, last);
        }
        if (expected != null) {
            String actual = sha256(part);
            if (!actual.equals(expected)) {
                try {
                    Files.deleteIfExists(part);
                } catch (IOException e) {
                    // reported below anyway
                }
                throw new IllegalStateException("checksum mismatch for " + uri + ": expected SHA-256 " + expected
                        + ", got " + actual + "; the download was deleted, pull it again");
            }
        }
        try {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot move " + part + " to " + target + ": " + e.getMessage(), e);
        }
        return target;
    }

    /**
     * One request: appends to {@code part} from its current size, or starts it over when the
     * server ignores the range. Returns the SHA-256 the source gives, or null.
     */
    private String transfer(URI uri, Path part, DownloadListener listener) throws IOException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        HttpRequest.Builder rb = request(uri);
        if (have > 0) {
            rb.header("Range", "bytes=" + have + "-");
        }
        HttpResponse<InputStream> r;
        try {
            r = http().send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String sha = sourceSha256(r);
        try (InputStream body = r.body()) {
            int status = r.statusCode();
            if (status == 416 && have > 0) {
                return sha; // the part file already holds everything: the checksum decides
            }
            check(uri, status);
            boolean append = status == 206 && have > 0;
            if (!append) {
                have = 0;
            }
            long length = r.headers().firstValueAsLong("Content-Length").orElse(-1);
            long total = length < 0 ? -1 : have + length;
            listener.progress(have, total);
            long done = have;
            try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = body.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    done += n;
                    listener.progress(done, total);
                }
            }
            if (length >= 0 && done - have < length) {
                throw new IOException("the transfer ended after " + (done - have) + " of " + length + " bytes");
            }
        }
        return sha;
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", "llama-java")
                .timeout(Duration.ofMinutes(5));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    /**
     * The SHA-256 that Hugging Face gives for an LFS file: the {@code X-Linked-Etag} of the redirect
     * (or the {@code ETag}), when it is 64 hex digits; null otherwise (a git ETag is a SHA-1).
     */
    static String sourceSha256(HttpResponse<?> response) {
        for (Optional<? extends HttpResponse<?>> r = Optional.of(response); r.isPresent(); r = r.get().previousResponse()) {
            HttpHeaders h = r.get().headers();
            for (String name : new String[] {"X-Linked-Etag", "ETag"}) {
                Optional<String> v = h.firstValue(name);
                if (v.isPresent()) {
                    String s = v.get().strip().replaceFirst("^W/", "").replace("\"", "").toLowerCase(Locale.ROOT);
                    if (SHA256.matcher(s).matches()) {
                        return s;
                    }
                }
            }
        }
        return null;
    }

    private static void check(URI uri, int status) {
        if (status >= 200 && status < 300) {
            return;
        }
        String why = switch (status) {
            case 401, 403 -> "access denied (a gated or private model: set HF_TOKEN to a token that may read it)";
            case 404 -> "not found (check the repository and the file name)";
            default -> "HTTP status " + status;
        };
        throw new IllegalArgumentException("cannot download " + uri + ": " + why);
    }

    private static boolean isUnreachable(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof HttpConnectTimeoutException
                    || t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    private static IllegalStateException unreachable(URI uri, IOException e) {
        return new IllegalStateException("cannot reach " + uri.getScheme() + "://" + uri.getAuthority()
                + " (offline?): " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                + "; models pulled before stay in the models folder", e);
    }

    /** The SHA-256 of bytes, as hex. */
    static String sha256Of(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The SHA-256 of a file, as hex. */
    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
