package org.llamajava.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The router's {@code GET /models/sse}: every subscriber gets each event published after it subscribed,
 * one {@code data: {"model": NAME, "event": EVENT[, "data": {...}]}} line and a blank line per event, as
 * llama-server's router sends them (no {@code event:} line, no replay of earlier events), each followed
 * by an SSE comment line {@code :} that SSE clients skip (see {@link #serve}). Events:
 * {@code model_status} (a load or a download starts), {@code status_change} (loaded, unloaded),
 * {@code download_progress}, {@code download_finished}, {@code download_failed}, {@code model_remove},
 * {@code models_reload} (model {@code *}).
 *
 * <p>Bounded: at most {@code maxSubscribers} streams at once (each holds an HTTP thread; more are refused
 * with 503), and each subscriber's queue holds {@code queueCapacity} events: a subscriber that falls that
 * far behind is dropped (its stream ends) rather than slowing the router or growing without limit.
 */
final class RouterEvents {
    /** A subscriber's pending events; {@code dropped} once it fell behind. */
    private static final class Subscriber {
        final BlockingQueue<String> events;
        volatile boolean dropped;

        Subscriber(int capacity) {
            events = new ArrayBlockingQueue<>(capacity);
        }
    }

    private static final byte[] KEEP = ":\n".getBytes(StandardCharsets.US_ASCII);

    private final ObjectMapper json;
    private final int maxSubscribers;
    private final int queueCapacity;
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();

    /**
     * @param json           writes the events
     * @param maxSubscribers streams served at once
     * @param queueCapacity  events a subscriber may be behind before it is dropped
     */
    RouterEvents(ObjectMapper json, int maxSubscribers, int queueCapacity) {
        this.json = json;
        this.maxSubscribers = maxSubscribers;
        this.queueCapacity = queueCapacity;
    }

    /**
     * Sends an event to every subscriber; never blocks.
     *
     * @param event the event's name
     * @param model the model it is about ({@code *} for all)
     * @param data  its data, or null for none
     */
    void publish(String event, String model, JsonNode data) {
        if (subscribers.isEmpty()) {
            return;
        }
        ObjectNode o = json.createObjectNode();
        o.put("model", model);
        o.put("event", event);
        if (data != null) {
            o.set("data", data);
        }
        String line = "data: " + o + "\n\n";
        for (Subscriber s : subscribers) {
            if (!s.events.offer(line)) {
                s.dropped = true;
                subscribers.remove(s);
            }
        }
    }

    /** How many streams are open. */
    int subscribers() {
        return subscribers.size();
    }

    /**
     * Serves one stream on the request's thread until the client leaves, {@code stop} says so, or the
     * subscriber falls behind.
     *
     * @param ctx        the request
     * @param subscribed run once the stream is accepted, before its headers are sent
     * @param stop       checked about once a second while no event comes (the client gone, the router closing)
     * @return false when the stream was refused because {@code maxSubscribers} are open
     */
    boolean serve(Context ctx, Runnable subscribed, BooleanSupplier stop) {
        Subscriber s = new Subscriber(queueCapacity);
        synchronized (subscribers) {
            if (subscribers.size() >= maxSubscribers) {
                return false;
            }
            subscribers.add(s);
        }
        try {
            subscribed.run();
            ctx.status(200);
            ctx.res().setContentType("text/event-stream");
            ctx.res().setHeader("Cache-Control", "no-cache");
            OutputStream out = ctx.res().getOutputStream();
            out.flush(); // the headers: the client knows it is subscribed
            while (!s.dropped) {
                String line = s.events.poll(1, TimeUnit.SECONDS);
                if (line == null) {
                    if (stop.getAsBoolean()) {
                        return true;
                    }
                    continue;
                }
                out.write(line.getBytes(StandardCharsets.UTF_8));
                out.flush();
                // Jetty sends the CRLF that ends an HTTP/1.1 chunk with the next chunk: a client that reads
                // chunk by chunk (Python's urllib3) would see each event only when the next one comes. An
                // SSE comment line after each event completes the event's chunk at once (clients skip it)
                out.write(KEEP);
                out.flush();
            }
        } catch (IOException e) {
            // the client left
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            subscribers.remove(s);
        }
        return true;
    }
}
