package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * llama-server's conversation streams: a streamed generation request with the header
 * {@code X-Conversation-Id} is recorded as a {@link ConversationStream} that outlives its client's
 * connection (the generation goes on when the client leaves), so that a client can resume it:
 *
 * <ul>
 *   <li>{@code GET /v1/stream?conv_id=ID&from=N}: its events from byte offset {@code N} (default 0),
 *       then the live ones until the generation ends; 404 for an unknown (or expired, or stopped) id,
 *       400 for a bad offset or one whose bytes were dropped;</li>
 *   <li>{@code DELETE /v1/stream?conv_id=ID}: stops it (cancels the generation) and forgets it; 204,
 *       also for an unknown id;</li>
 *   <li>{@code POST /v1/streams/lookup} with {@code {"conversation_ids": [...]}}: the streams of the
 *       ids asked for (an id also matches {@code ID::MODEL}), never the others.</li>
 * </ul>
 *
 * The id travels in the query string, as it may hold slashes (a model's name). Bounded: at most
 * {@code maxSessions} streams (the oldest finished one makes room; when all run, a new one is refused
 * with 503), at most {@code maxBytes} held per stream (the oldest dropped), and a finished stream is
 * forgotten {@code ttl} after it finished. A newer request on the same id stops the older one.
 * Thread-safe.
 */
final class ConversationStreams {
    /** The request header that names a conversation. */
    static final String HEADER = "X-Conversation-Id";
    /** llama-server's limits: 4 MiB per stream, finished streams kept 5 minutes. */
    static final int MAX_BYTES = 4 << 20;
    static final Duration TTL = Duration.ofMinutes(5);
    /** Streams at most (held bytes then stay within 1 GiB). */
    static final int MAX_SESSIONS = 256;
    /** Ids at most in one lookup. */
    static final int MAX_LOOKUP_IDS = 1024;
    /** A resuming reader's largest write, and how long it waits for bytes before looking again. */
    private static final int READ_CHUNK = 64 * 1024;
    private static final long READ_WAKE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final int maxSessions;
    private final int maxBytes;
    private final long ttlNanos;
    /** By id, oldest first. Guarded by this. */
    private final Map<String, ConversationStream> sessions = new LinkedHashMap<>();
    private boolean closed;

    ConversationStreams() {
        this(MAX_SESSIONS, MAX_BYTES, TTL);
    }

    ConversationStreams(int maxSessions, int maxBytes, Duration ttl) {
        if (maxSessions <= 0 || maxBytes <= 0 || ttl.isNegative()) {
            throw new IllegalArgumentException("maxSessions and maxBytes must be positive, ttl not negative");
        }
        this.maxSessions = maxSessions;
        this.maxBytes = maxBytes;
        this.ttlNanos = ttl.toNanos();
    }

    /**
     * The stream a streamed request records, when it names a conversation: a newer one replaces
     * (and stops) the conversation's previous stream.
     *
     * @param id the request's {@link #HEADER}, or null
     * @return the new stream, or null when {@code id} is null or empty
     * @throws ApiException 503 when {@code maxSessions} streams run (none finished to make room)
     */
    ConversationStream open(String id) {
        if (id == null || id.isEmpty()) {
            return null;
        }
        ConversationStream fresh = new ConversationStream(id, maxBytes);
        ConversationStream previous;
        synchronized (this) {
            if (closed) {
                throw ApiException.unavailable("the server is shutting down");
            }
            purge();
            previous = sessions.remove(id);
            if (previous == null && sessions.size() >= maxSessions && !evictOldestFinished()) {
                throw ApiException.unavailable("too many conversation streams run (" + maxSessions + "): retry later,"
                        + " or send the request without " + HEADER);
            }
            sessions.put(id, fresh);
        }
        if (previous != null) {
            previous.cancel();
        }
        return fresh;
    }

    /** The conversation's stream, or null when there is none (never was, stopped, or expired). */
    synchronized ConversationStream get(String id) {
        purge();
        return sessions.get(id);
    }

    /**
     * Stops the conversation's stream (cancelling its generation) and forgets it.
     *
     * @return whether there was one
     */
    boolean stop(String id) {
        ConversationStream s;
        synchronized (this) {
            s = sessions.remove(id);
        }
        if (s != null) {
            s.cancel();
        }
        return s != null;
    }

    /** The streams of these ids: an id matches its own stream and the streams {@code ID::ANYTHING}. */
    synchronized List<ConversationStream> lookup(Iterable<String> ids) {
        purge();
        Set<ConversationStream> out = new LinkedHashSet<>();
        for (String id : ids) {
            String prefix = id + "::";
            for (ConversationStream s : sessions.values()) {
                if (s.id.equals(id) || s.id.startsWith(prefix)) {
                    out.add(s);
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** How many streams it holds. */
    synchronized int size() {
        purge();
        return sessions.size();
    }

    /** Finishes and forgets every stream (the server stops): their readers get the end. */
    void close() {
        List<ConversationStream> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(sessions.values());
            sessions.clear();
        }
        all.forEach(ConversationStream::finish);
    }

    /** Forgets the streams that finished {@code ttl} ago or more. Under this. */
    private void purge() {
        long now = System.nanoTime();
        sessions.values().removeIf(s -> s.expired(now, ttlNanos));
    }

    /** Forgets the oldest finished stream, if any. Under this. */
    private boolean evictOldestFinished() {
        for (Iterator<ConversationStream> it = sessions.values().iterator(); it.hasNext(); ) {
            if (it.next().done()) {
                it.remove();
                return true;
            }
        }
        return false;
    }

    // ---- the endpoints ----------------------------------------------------------------------

    /** The {@code conv_id} query parameter; 400 without one. */
    private static String convId(Context ctx) {
        String id = ctx.queryParam("conv_id");
        if (id == null || id.isEmpty()) {
            throw ApiException.invalid("conv_id", "'conv_id' is required in the query string: the conversation's id,"
                    + " as its request sent it in " + HEADER);
        }
        return id;
    }

    /** {@code GET /v1/stream?conv_id=ID&from=N}: the stream's bytes from {@code N}, then the live ones until it ends. */
    void resume(Context ctx) {
        String id = convId(ctx);
        ConversationStream s = get(id);
        if (s == null) {
            throw ApiException.notFound("no conversation stream '" + id + "': it never was, was stopped, or finished"
                    + " more than " + TimeUnit.NANOSECONDS.toSeconds(ttlNanos) + " s ago");
        }
        long from = 0;
        String f = ctx.queryParam("from");
        if (f != null && !f.isEmpty()) {
            try {
                from = Long.parseLong(f);
            } catch (NumberFormatException e) {
                from = -1;
            }
            if (from < 0) {
                throw ApiException.invalid("from", "'from' must be a byte offset (a whole number, 0 or more), not '"
                        + f + "'");
            }
        }
        if (from < s.droppedBytes()) {
            throw ApiException.invalid("from", "the stream's bytes before offset " + s.droppedBytes() + " were dropped"
                    + " (it keeps " + maxBytes + " bytes): the offset is lost, start the request again");
        }
        ctx.status(200);
        ctx.res().setContentType("text/event-stream");
        ctx.res().setCharacterEncoding("utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        try {
            OutputStream out = ctx.res().getOutputStream();
            out.flush(); // the headers now: a reader of a stream still waiting for its slot sees it is there
            while (true) {
                byte[] b = s.read(from, READ_CHUNK, READ_WAKE_NANOS);
                if (b == null) {
                    break;
                }
                if (b.length > 0) {
                    out.write(b);
                    out.flush();
                    from += b.length;
                }
            }
        } catch (IOException e) {
            // the reader left; the stream goes on for others
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code DELETE /v1/stream?conv_id=ID}: stops the stream and forgets it; 204 even when there was none. */
    void stop(Context ctx) {
        stop(convId(ctx));
        ctx.status(204);
    }

    /** {@code POST /v1/streams/lookup}: {@code [{conversation_id, is_done, total_bytes, started_at, completed_at}]}. */
    void lookup(Context ctx, ServerContext server) {
        JsonBody b = server.read(ctx);
        JsonNode ids = b.get("conversation_ids");
        List<String> asked = new ArrayList<>();
        if (ids != null && !ids.isNull()) {
            if (!ids.isArray()) {
                throw ApiException.invalid("conversation_ids", "'conversation_ids' must be an array of strings");
            }
            if (ids.size() > MAX_LOOKUP_IDS) {
                throw ApiException.invalid("conversation_ids", "'conversation_ids' has " + ids.size() + " ids; at most "
                        + MAX_LOOKUP_IDS);
            }
            for (JsonNode id : ids) {
                if (id.isTextual() && !id.asText().isEmpty()) {
                    asked.add(id.asText());
                }
            }
        }
        ArrayNode a = OpenAiFormat.F.arrayNode();
        for (ConversationStream s : lookup(asked)) {
            ObjectNode o = a.addObject();
            o.put("conversation_id", s.id);
            o.put("is_done", s.done());
            o.put("total_bytes", s.totalBytes());
            o.put("started_at", s.startedAt);
            o.put("completed_at", s.completedAt());
        }
        ctx.contentType("application/json").result(server.json(a));
    }
}
