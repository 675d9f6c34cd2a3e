package org.llamajava.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small server on loopback in Hugging Face's URL layout, for the download tests:
 * {@code /api/models/ORG/REPO/tree/main} lists a repository, {@code /ORG/REPO/resolve/main/PATH}
 * redirects (302, with {@code X-Linked-Etag} and {@code X-Linked-Size}, as the hub does for LFS
 * files) to {@code /blobs/PATH}, which serves the bytes and honours {@code Range: bytes=N-}. A file
 * can be set to break off the first {@code n} transfers halfway, and to announce a wrong checksum.
 */
final class FakeHub implements AutoCloseable {
    /** One file in a repository. */
    record Blob(byte[] data, String announcedSha256, int breakFirst) {}

    private final HttpServer server;
    private final Map<String, Blob> files = new ConcurrentHashMap<>();
    private final Map<String, String> listings = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> transfers = new ConcurrentHashMap<>();
    /** Every request: method, path and Range header (or "-"). */
    final List<String> log = new CopyOnWriteArrayList<>();

    FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** The endpoint, with a trailing slash. */
    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
    }

    /** Serves {@code data} at {@code repo}'s {@code path}. */
    void put(String repo, String path, byte[] data, String announcedSha256, int breakFirst) {
        files.put(repo + "/" + path, new Blob(data, announcedSha256, breakFirst));
    }

    /** The JSON the tree API answers for {@code repo}. */
    void listing(String repo, String json) {
        listings.put(repo, json);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        log.add(ex.getRequestMethod() + " " + path + " " + (range == null ? "-" : range));
        try (ex) {
            if (path.startsWith("/api/models/") && path.endsWith("/tree/main")) {
                String repo = path.substring("/api/models/".length(), path.length() - "/tree/main".length());
                String json = listings.get(repo);
                if (json == null) {
                    send(ex, 404, "{\"error\":\"Repository not found\"}");
                    return;
                }
                send(ex, 200, json);
                return;
            }
            int resolve = path.indexOf("/resolve/main/");
            if (resolve > 0) {
                String key = path.substring(1, resolve) + "/" + path.substring(resolve + "/resolve/main/".length());
                Blob b = files.get(key);
                if (b == null) {
                    send(ex, 404, "Entry not found");
                    return;
                }
                ex.getResponseHeaders().add("Location", "/blobs/" + key);
                if (b.announcedSha256() != null) {
                    ex.getResponseHeaders().add("X-Linked-Etag", "\"" + b.announcedSha256() + "\"");
                }
                ex.getResponseHeaders().add("X-Linked-Size", Integer.toString(b.data().length));
                ex.sendResponseHeaders(302, -1);
                return;
            }
            if (path.startsWith("/blobs/")) {
                String key = path.substring("/blobs/".length());
                Blob b = files.get(key);
                if (b == null) {
                    send(ex, 404, "no such blob");
                    return;
                }
                int from = 0;
                if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
                    from = Integer.parseInt(range.substring(6, range.length() - 1));
                    if (from >= b.data().length) {
                        ex.getResponseHeaders().add("Content-Range", "bytes */" + b.data().length);
                        ex.sendResponseHeaders(416, -1);
                        return;
                    }
                    ex.getResponseHeaders().add("Content-Range",
                            "bytes " + from + "-" + (b.data().length - 1) + "/" + b.data().length);
                }
                int n = b.data().length - from;
                int transfer = transfers.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                ex.sendResponseHeaders(from > 0 ? 206 : 200, n);
                OutputStream out = ex.getResponseBody();
                if (transfer <= b.breakFirst()) {
                    // a broken transfer: half of what was announced, then the connection closes
                    out.write(b.data(), from, n / 2);
                    out.flush();
                    ex.getHttpContext().getServer(); // keep the exchange referenced until here
                    closeConnection(ex);
                    return;
                }
                out.write(b.data(), from, n);
                return;
            }
            send(ex, 404, "not found");
        }
    }

    /** Drops the TCP connection under the exchange (the server would otherwise wait for the rest). */
    private static void closeConnection(HttpExchange ex) {
        try {
            ex.getResponseBody().close();
        } catch (IOException expected) {
            // "insufficient bytes written": the server then closes the connection
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
