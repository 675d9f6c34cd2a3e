package org.llamajava.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.llamajava.hub.DownloadListener;
import org.llamajava.hub.ModelCache;
import org.llamajava.hub.ModelReference;

/**
 * The router's model downloads and deletions, as llama-server's router has them: {@code POST /models
 * {"model": "ORG/REPO[:TAG]"}} starts a download worker (a thread of the router, not a model slot: it
 * neither counts against {@code --models-max} nor stops a loaded model) that pulls the file llama.cpp's
 * {@code -hf} would pick into the router's models folder with {@link ModelCache} ({@code ORG/REPO/FILE}:
 * resumable, checksum-checked, locked); the model is listed as {@code downloading} meanwhile, and under
 * its catalog name ({@code ORG/REPO:TAG}) once the file is there. {@code DELETE /models?model=NAME}
 * cancels a download, or stops a running model and deletes its files; only models the folder holds as
 * {@code ORG/REPO/FILE} (source {@code cache}) can be deleted. Events go to {@link RouterEvents}.
 *
 * <p>Bounded: at most {@code maxActive} downloads run at once (more are refused with 503); names are
 * {@code ORG/REPO[:TAG]} of at most 200 characters with no path in them.
 */
final class RouterDownloads implements AutoCloseable {
    /** What the downloads need of the router. */
    interface Host {
        /**
         * The catalog's entry of that name, or null.
         *
         * @param name a model's name
         * @return its entry
         */
        RouterCatalog.Entry entry(String name);

        /**
         * Stops the model if it runs and waits until it has stopped.
         *
         * @param name a model's name
         */
        void stopAndWait(String name);

        /** Reads the models folder again (a download ended, a model was deleted). */
        void reload();
    }

    /** One download in flight. Guarded by the downloads' monitor. */
    private static final class Download {
        final String name;
        final Map<String, long[]> progress = new LinkedHashMap<>();
        final List<Path> targets = new ArrayList<>();
        volatile boolean cancelled;
        Thread worker;
        boolean done;
        /** Cancelled by a DELETE that did not wait for its end (a stalled transfer): it ends without events. */
        boolean detached;
        long lastEvent;

        Download(String name) {
            this.name = name;
        }
    }

    /** The longest model name taken. */
    static final int MAX_NAME = 200;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
            + "(?::[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?");
    private static final long PROGRESS_EVERY_NANOS = 100_000_000L;
    /** How long a DELETE waits for a cancelled download's worker to end. */
    private static final long CANCEL_WAIT_NANOS = 3_000_000_000L;
    private static final Pattern SPLIT = Pattern.compile("^(.+)-([0-9]{5})-of-([0-9]{5})\\.gguf$");

    private final ModelCache cache;
    private final RouterEvents events;
    private final Host host;
    private final int maxActive;
    private final ObjectMapper json;
    private final java.io.PrintStream err;
    private final Map<String, Download> active = new LinkedHashMap<>();
    /** Cancelled workers still blocked in a transfer (they still count against {@code maxActive}). */
    private int detached;
    private volatile boolean closing;

    /**
     * @param cache     pulls into the router's models folder
     * @param events    where events go
     * @param host      the router
     * @param maxActive downloads at once
     * @param json      writes event data
     * @param err       where failures are logged
     */
    RouterDownloads(ModelCache cache, RouterEvents events, Host host, int maxActive, ObjectMapper json,
                    java.io.PrintStream err) {
        this.cache = cache;
        this.events = events;
        this.host = host;
        this.maxActive = maxActive;
        this.json = json;
        this.err = err;
    }

    /** Checks a name for {@code POST /models}: {@code ORG/REPO[:TAG]}, nothing that leaves the folder. */
    static ModelReference parseName(String name) {
        if (name == null || name.isEmpty()) {
            throw RouterError.invalid("model must be a non-empty string");
        }
        if (name.length() > MAX_NAME || !NAME.matcher(name).matches() || name.contains("..")) {
            throw RouterError.invalid("invalid HF repo format, expected <user>/<model>[:quant]");
        }
        ModelReference ref;
        try {
            ref = ModelReference.parse(name);
        } catch (IllegalArgumentException e) {
            throw RouterError.invalid("invalid HF repo format, expected <user>/<model>[:quant]");
        }
        if (ref == null || ref.kind() != ModelReference.Kind.HF_REPO) {
            throw RouterError.invalid("invalid HF repo format, expected <user>/<model>[:quant]");
        }
        return ref;
    }

    /**
     * {@code POST /models}: starts downloading the model in the background.
     *
     * @param name {@code ORG/REPO[:TAG]}
     * @throws RouterError 400 for a bad or existing name, 503 when {@code maxActive} downloads run
     */
    void start(String name) {
        ModelReference ref = parseName(name);
        Path repoDir = cache.dir().toAbsolutePath().normalize().resolve(ref.repo()).normalize();
        if (!repoDir.startsWith(cache.dir().toAbsolutePath().normalize())) {
            throw RouterError.invalid("invalid HF repo format, expected <user>/<model>[:quant]");
        }
        Download d;
        synchronized (this) {
            if (closing) {
                throw new RouterError(503, "unavailable_error", "the server is shutting down");
            }
            if (active.containsKey(name) || host.entry(name) != null) {
                throw RouterError.invalid("model '" + name + "' already exists");
            }
            if (active.size() + detached >= maxActive) {
                throw new RouterError(503, "unavailable_error", "too many downloads in progress (" + maxActive
                        + "); try again later");
            }
            d = new Download(name);
            active.put(name, d);
        }
        ObjectNode st = json.createObjectNode().put("status", "downloading");
        events.publish("model_status", name, st);
        Thread t = new Thread(() -> run(d, ref), "llama-java-router-download");
        t.setDaemon(true);
        synchronized (this) {
            d.worker = t;
        }
        t.start();
    }

    private void run(Download d, ModelReference ref) {
        boolean ok = false;
        String failure = null;
        try {
            cache.pull(ref, false, new Listener(d));
            ok = true;
        } catch (CancellationException e) {
            failure = "cancelled";
        } catch (RuntimeException e) {
            failure = d.cancelled ? "cancelled" : e.getMessage();
            if (!d.cancelled) {
                err.println("router: download of " + d.name + " failed: " + failure);
            }
        }
        Thread.interrupted(); // a cancel's interrupt, if it came after the transfer
        if (ok && !d.cancelled) {
            // listed by the catalog before it stops being listed as downloading
            try {
                host.reload();
            } catch (RuntimeException e) {
                err.println("router: reading the models folder after the download of " + d.name + " failed: "
                        + e.getMessage());
            }
        }
        synchronized (this) {
            d.done = true;
            if (d.detached) {
                detached--;
                return; // its DELETE removed what it wrote and sent its events
            }
            active.remove(d.name);
            notifyAll();
        }
        if (ok && !d.cancelled) {
            events.publish("download_finished", d.name, null);
        } else {
            if (!d.cancelled) {
                // a failure leaves a partial file to resume (a later POST of the name goes on from it), no lock
                for (Path t : d.targets) {
                    deleteQuietly(t.resolveSibling(t.getFileName() + ".lock"));
                    pruneEmptyParents(t.getParent());
                }
            }
            events.publish("download_failed", d.name, json.createObjectNode().put("error",
                    failure == null ? "cancelled" : failure));
        }
    }

    /** Progress of one download, as events at most every 100 ms (and at each file's first report and its end). */
    private final class Listener implements DownloadListener {
        private final Download d;
        private String url = "";

        Listener(Download d) {
            this.d = d;
        }

        @Override
        public void started(URI source, Path target) {
            checkCancelled();
            url = source.toString();
            synchronized (RouterDownloads.this) {
                d.targets.add(target);
            }
            // the first progress report (with the size, once the server answered) is always sent
        }

        @Override
        public void progress(long bytes, long total) {
            checkCancelled();
            send(bytes, total, total >= 0 && bytes >= total);
        }

        private void checkCancelled() {
            if (d.cancelled || closing) {
                throw new CancellationException("the download of " + d.name + " was cancelled");
            }
        }

        private void send(long bytes, long total, boolean always) {
            ObjectNode data;
            synchronized (RouterDownloads.this) {
                long now = System.nanoTime();
                always |= !d.progress.containsKey(url);
                long[] p = d.progress.computeIfAbsent(url, k -> new long[] {0, -1});
                p[0] = bytes;
                p[1] = total;
                if (!always && now - d.lastEvent < PROGRESS_EVERY_NANOS) {
                    return;
                }
                d.lastEvent = now;
                data = progressJson(d);
            }
            events.publish("download_progress", d.name, data);
        }
    }

    private ObjectNode progressJson(Download d) {
        ObjectNode data = json.createObjectNode();
        ObjectNode progress = data.putObject("progress");
        d.progress.forEach((u, p) -> progress.putObject(u).put("done", p[0]).put("total", p[1]));
        return data;
    }

    /**
     * Adds the downloads in flight to a {@code GET /models} list, as llama-server lists them.
     *
     * @param data    the list's {@code data}
     * @param created the {@code created} time to give them
     */
    synchronized void list(ArrayNode data, long created) {
        for (Download d : active.values()) {
            if (host.entry(d.name) != null) {
                continue;
            }
            ObjectNode m = ModelRouter.listEntry(data, d.name, created, "downloading");
            m.put("source", "cache");
            m.put("can_remove", true);
            m.setAll(progressJson(d));
        }
    }

    /**
     * Whether the name is a download in flight.
     *
     * @param name a model's name
     * @return true while it downloads
     */
    synchronized boolean downloading(String name) {
        return active.containsKey(name);
    }

    /**
     * {@code DELETE /models?model=NAME}: cancels its download, or stops the model and deletes its files.
     *
     * @param name the model's name
     * @throws RouterError 400 for no name; 500 (as llama-server) for a model that is not there or not deletable
     */
    void remove(String name) {
        if (name == null || name.isEmpty()) {
            throw RouterError.invalid("model must be a non-empty string");
        }
        Download d;
        synchronized (this) {
            d = active.get(name);
            if (d != null) {
                d.cancelled = true;
                if (d.worker != null) {
                    d.worker.interrupt(); // ends a wait that can be interrupted
                }
                long deadline = System.nanoTime() + CANCEL_WAIT_NANOS;
                while (!d.done && System.nanoTime() < deadline) {
                    try {
                        wait(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new RouterError(503, "unavailable_error", "interrupted");
                    }
                }
                if (!d.done) {
                    // blocked in a read that the JDK's HTTP client does not end on an interrupt (a stalled
                    // server): it fails at its next progress report, without events, and cannot complete
                    d.detached = true;
                    detached++;
                    active.remove(name);
                }
            }
        }
        if (d != null && d.detached) {
            events.publish("download_failed", name, json.createObjectNode().put("error", "cancelled"));
        }
        if (d != null) {
            // what it had written: partial files, locks, and a file it completed before it saw the cancel
            List<Path> targets;
            synchronized (this) {
                targets = List.copyOf(d.targets);
            }
            for (Path t : targets) {
                deleteQuietly(t);
                deleteQuietly(t.resolveSibling(t.getFileName() + ".part"));
                deleteQuietly(t.resolveSibling(t.getFileName() + ".lock"));
                pruneEmptyParents(t.getParent());
            }
            if (host.entry(name) == null) {
                host.reload();
                events.publish("model_remove", name, null);
                return;
            }
        }
        RouterCatalog.Entry e = host.entry(name);
        if (e == null) {
            throw RouterError.server("model name=" + name + " is not found");
        }
        if (e.source() != RouterCatalog.Source.CACHE) {
            throw RouterError.server("model name=" + name + " is not removable (not from cache)");
        }
        Path file = Path.of(e.model()).toAbsolutePath().normalize();
        Path dir = cache.dir().toAbsolutePath().normalize();
        if (!file.startsWith(dir) || dir.relativize(file).getNameCount() < 3) {
            throw RouterError.server("model name=" + name + " is not removable (not from cache)");
        }
        host.stopAndWait(name);
        for (Path f : filesOf(file)) {
            deleteQuietly(f);
            deleteQuietly(f.resolveSibling(f.getFileName() + ".part"));
            deleteQuietly(f.resolveSibling(f.getFileName() + ".lock"));
        }
        pruneEmptyParents(file.getParent());
        host.reload();
        events.publish("model_remove", name, null);
    }

    /** The model's file, or all parts of a split model. */
    private static List<Path> filesOf(Path first) {
        Matcher m = SPLIT.matcher(first.getFileName().toString());
        if (!m.matches()) {
            return List.of(first);
        }
        String prefix = m.group(1) + "-";
        String suffix = "-of-" + m.group(3) + ".gguf";
        try (Stream<Path> s = Files.list(first.getParent())) {
            return s.filter(p -> {
                String f = p.getFileName().toString();
                return f.startsWith(prefix) && f.endsWith(suffix)
                        && f.substring(prefix.length(), f.length() - suffix.length()).matches("[0-9]{5}");
            }).toList();
        } catch (IOException e) {
            return List.of(first);
        }
    }

    private void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            err.println("router: cannot delete " + p + ": " + e.getMessage());
        }
    }

    /** Removes the repository's and the organisation's folders once they are empty (not the models folder). */
    private void pruneEmptyParents(Path from) {
        Path dir = cache.dir().toAbsolutePath().normalize();
        for (Path p = from.toAbsolutePath().normalize(); p != null && p.startsWith(dir) && !p.equals(dir);
                p = p.getParent()) {
            try (Stream<Path> s = Files.list(p)) {
                if (s.findAny().isPresent()) {
                    return;
                }
            } catch (IOException e) {
                return;
            }
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Cancels the downloads in flight (their workers are interrupted, and stop at their next progress report). */
    @Override
    public synchronized void close() {
        closing = true;
        for (Download d : active.values()) {
            d.cancelled = true;
            if (d.worker != null) {
                d.worker.interrupt();
            }
        }
    }
}
