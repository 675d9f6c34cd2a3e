package org.llamajava.hub;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server on loopback in Hugging Face's URL layout, for the download tests:
 * {@code /api/models/ORG/REPO/tree/main} lists a repository, {@code /ORG/REPO/resolve/main/PATH}
 * redirects (302, with {@code X-Linked-Etag} and {@code X-Linked-Size}, as the hub does for LFS
 * files) to {@code /blobs/PATH}, which serves the bytes and honours {@code Range: bytes=N-}. A file
 * can be set to break off its first transfers halfway (the connection closes after half of the
 * announced bytes), and to announce a wrong checksum. One connection per request, on plain sockets,
 * so that a transfer can really break off.
 */
public final class FakeHub implements AutoCloseable {
    /** One file in a repository. */
    public record Blob(byte[] data, String announcedSha256, int breakFirst) {}

    private final ServerSocket server;
    private final Map<String, Blob> files = new ConcurrentHashMap<>();
    private final Map<String, String> listings = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> transfers = new ConcurrentHashMap<>();
    /** Every request: method, path and Range header (or "-"). */
    public final List<String> log = new CopyOnWriteArrayList<>();

    /**
     * Starts it on a free loopback port.
     *
     * @throws IOException when no port can be bound
     */
    public FakeHub() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "fake-hub");
        t.setDaemon(true);
        t.start();
    }

    /** The endpoint, with a trailing slash. */
    /** @return its base URL, ending in a slash */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort() + "/";
    }

    /** Serves {@code data} at {@code repo}'s {@code path}; the first {@code breakFirst} transfers break off. */
    /** Serves {@code data} as {@code repo}'s file {@code path}. */
    public void put(String repo, String path, byte[] data, String announcedSha256, int breakFirst) {
        files.put(repo + "/" + path, new Blob(data, announcedSha256, breakFirst));
    }

    /** The JSON the tree API answers for {@code repo}. */
    /** Answers {@code repo}'s listing with {@code json}. */
    public void listing(String repo, String json) {
        listings.put(repo, json);
    }

    /**
     * The SHA-256 of bytes, as hex, as the hub announces it.
     *
     * @param data the bytes
     * @return 64 hex digits
     */
    public static String sha256Of(byte[] data) {
        return Downloader.sha256Of(data);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "fake-hub-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            String requestLine = in.readLine();
            if (requestLine == null) {
                return;
            }
            String range = null;
            for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                if (h.regionMatches(true, 0, "Range:", 0, 6)) {
                    range = h.substring(6).strip();
                }
            }
            String[] parts = requestLine.split(" ");
            String target = parts[1];
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            log.add(parts[0] + " " + path + " " + (range == null ? "-" : range));
            respond(s.getOutputStream(), path, range);
            // a graceful close: everything written reaches the client before the connection ends
            s.shutdownOutput();
            s.setSoTimeout(10_000);
            while (in.read() >= 0) {
                // until the client closes its side
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    private void respond(OutputStream out, String path, String range) throws IOException {
        if (path.startsWith("/api/models/") && path.endsWith("/tree/main")) {
            String json = listings.get(path.substring("/api/models/".length(), path.length() - "/tree/main".length()));
            if (json == null) {
                send(out, 404, "{\"error\":\"Repository not found\"}");
            } else {
                send(out, 200, json);
            }
            return;
        }
        int resolve = path.indexOf("/resolve/main/");
        if (resolve > 0) {
            String key = path.substring(1, resolve) + "/" + path.substring(resolve + "/resolve/main/".length());
            Blob b = files.get(key);
            if (b == null) {
                send(out, 404, "Entry not found");
                return;
            }
            head(out, "302 Found", "Location: /blobs/" + key
                    + (b.announcedSha256() == null ? "" : "\r\nX-Linked-Etag: \"" + b.announcedSha256() + "\"")
                    + "\r\nX-Linked-Size: " + b.data().length + "\r\nContent-Length: 0");
            return;
        }
        if (path.startsWith("/blobs/")) {
            String key = path.substring("/blobs/".length());
            Blob b = files.get(key);
            if (b == null) {
                send(out, 404, "no such blob");
                return;
            }
            int from = 0;
            String extra = "";
            if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
                from = Integer.parseInt(range.substring(6, range.length() - 1));
                if (from >= b.data().length) {
                    head(out, "416 Range Not Satisfiable", "Content-Range: bytes */" + b.data().length
                            + "\r\nContent-Length: 0");
                    return;
                }
                extra = "\r\nContent-Range: bytes " + from + "-" + (b.data().length - 1) + "/" + b.data().length;
            }
            int n = b.data().length - from;
            head(out, from > 0 ? "206 Partial Content" : "200 OK", "Content-Length: " + n + extra);
            int transfer = transfers.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            // a broken transfer: half of what was announced, then the connection closes
            out.write(b.data(), from, transfer <= b.breakFirst() ? n / 2 : n);
            out.flush();
            return;
        }
        send(out, 404, "not found");
    }

    private static void head(OutputStream out, String status, String headers) throws IOException {
        out.write(("HTTP/1.1 " + status + "\r\nConnection: close\r\n" + headers + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
    }

    private static void send(OutputStream out, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        head(out, status + (status == 200 ? " OK" : " Error"), "Content-Type: application/json\r\nContent-Length: "
                + b.length);
        out.write(b);
        out.flush();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
