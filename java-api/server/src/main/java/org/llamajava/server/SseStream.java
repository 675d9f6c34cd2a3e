package org.llamajava.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GeneratedToken;

/**
 * Streams a {@link Generation} as server-sent events ({@code data: JSON}, then
 * {@code data: [DONE]}), as OpenAI's API does. The engine's thread only queues events; the
 * request's own thread writes them, so a slow client slows only itself (its blocking writes are
 * the back-pressure, and its events wait, at most {@code n * max_tokens} of them). A write that
 * fails means the client left: the generation is cancelled, which frees its slots at the
 * engine's next step. While nothing happens (a prompt waiting for a slot, or being evaluated),
 * an SSE comment every {@link #PING_MILLIS} ms finds a client that left. A request that names a
 * conversation ({@link ConversationStreams}) records its bytes in the conversation's stream too, and
 * its generation outlives its client.
 */
final class SseStream implements Generation.Listener {
    static final long PING_MILLIS = 1000;
    private static final byte[] PING = ": ping\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    /** The chunks of one endpoint's stream. */
    interface Format {
        /** Chunks before any text of a choice (chat: the assistant's role); none by default. */
        default List<ObjectNode> start(int choice) {
            return List.of();
        }

        /** A chunk of text, with the tokens sampled for it (for logprobs); null to send nothing yet. */
        ObjectNode text(int choice, String text, List<GeneratedToken> tokens);

        /** The last chunk of a choice, with its finish reason. */
        ObjectNode finish(int choice, Completion completion, List<GeneratedToken> tokens);

        /** The usage chunk ({@code stream_options.include_usage}). */
        ObjectNode usage(List<Completion> done);

        /** The events for a piece of text: {@link #text}'s chunk, if any, by default. */
        default List<ObjectNode> textChunks(int choice, String text, List<GeneratedToken> tokens) {
            ObjectNode o = text(choice, text, tokens);
            return o == null ? List.of() : List.of(o);
        }

        /** The events that end a choice: {@link #finish}'s chunk by default. */
        default List<ObjectNode> finishChunks(int choice, Completion completion, List<GeneratedToken> tokens) {
            return List.of(finish(choice, completion, tokens));
        }

        /** The events reporting a prompt's progress (llama-server's {@code prompt_progress}); none by default. */
        default List<ObjectNode> progressChunks(int choice, int total, int cached, int processed, long nanos) {
            return List.of();
        }

        /** The SSE event name a chunk goes with ({@code event: NAME}), or null for none (OpenAI's streams). */
        default String event(ObjectNode chunk) {
            return null;
        }

        /** The chunk that reports a failure, from OpenAI's error body: the body by default. */
        default ObjectNode error(ObjectNode body) {
            return body;
        }
    }

    private sealed interface Event permits Text, Done, Progress {}

    private record Progress(int choice, int total, int cached, int processed, long nanos) implements Event {}

    private record Text(int choice, String text, List<GeneratedToken> tokens) implements Event {}

    private record Done(int choice, Completion completion, Throwable error, List<GeneratedToken> tokens)
            implements Event {}

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final ObjectMapper json;

    /** Whether the stream ends with OpenAI's {@code data: [DONE]} (llama-server's native streams do not). */
    private final boolean openAiDone;

    SseStream(ObjectMapper json) {
        this(json, true);
    }

    SseStream(ObjectMapper json, boolean done) {
        this.json = json;
        this.openAiDone = done;
    }

    @Override
    public void text(int choice, String text, List<GeneratedToken> tokens) {
        events.add(new Text(choice, text, tokens));
    }

    @Override
    public void progress(int choice, int total, int cached, int processed, long nanos) {
        events.add(new Progress(choice, total, cached, processed, nanos));
    }

    @Override
    public void done(int choice, Completion completion, Throwable error, List<GeneratedToken> tokens) {
        events.add(new Done(choice, completion, error, tokens));
    }

    /**
     * Writes the stream until every choice is done, the generation fails (an error event ends
     * the stream) or the client leaves (the generation is cancelled).
     *
     * @return the completions, or null if the stream did not finish
     */
    List<Completion> pump(HttpServletResponse res, Generation g, Format format) {
        return pump(res, g, format, null);
    }

    /**
     * {@link #pump(HttpServletResponse, Generation, Format)} recording the stream's bytes in a
     * conversation's stream as well (when {@code session} is not null): then a client that leaves
     * does not cancel the generation, which goes on into the session until it ends or the session
     * is stopped (which cancels it); the session is finished when this returns.
     */
    List<Completion> pump(HttpServletResponse res, Generation g, Format format, ConversationStream session) {
        res.setStatus(200);
        res.setContentType("text/event-stream");
        res.setCharacterEncoding("utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        int n = g.choices.size();
        Completion[] done = new Completion[n];
        try {
            if (session != null) {
                session.onCancel(g::cancel);
            }
            Tee out = new Tee(res.getOutputStream(), session);
            for (int i = 0; i < n; i++) {
                for (ObjectNode chunk : format.start(i)) {
                    send(out, format, chunk);
                }
            }
            out.flush();
            int remaining = n;
            while (remaining > 0) {
                Event e = events.poll(PING_MILLIS, TimeUnit.MILLISECONDS);
                if (e == null) {
                    out.write(PING);
                    out.flush();
                    continue;
                }
                if (e instanceof Progress p) {
                    for (ObjectNode chunk : format.progressChunks(p.choice(), p.total(), p.cached(), p.processed(),
                            p.nanos())) {
                        send(out, format, chunk);
                    }
                } else if (e instanceof Text t) {
                    for (ObjectNode chunk : format.textChunks(t.choice(), t.text(), t.tokens())) {
                        send(out, format, chunk);
                    }
                } else if (e instanceof Done d) {
                    if (d.error() != null || d.completion().finishReason() == FinishReason.CANCELLED) {
                        g.cancel();
                        RuntimeException r = d.error() == null
                                ? ApiException.unavailable("the request was cancelled") : Generation.failure(d.error());
                        send(out, format, format.error(r instanceof ApiException a ? a.body()
                                : ApiException.body("generation failed: " + r.getMessage(), "server_error", null, null)));
                        out.flush();
                        return null;
                    }
                    done[d.choice()] = d.completion();
                    remaining--;
                    for (ObjectNode chunk : format.finishChunks(d.choice(), d.completion(), d.tokens())) {
                        send(out, format, chunk);
                    }
                }
                if (events.isEmpty()) {
                    out.flush();
                }
            }
            List<Completion> all = Arrays.asList(done);
            ObjectNode usage = format.usage(all);
            if (usage != null) {
                send(out, format, usage);
            }
            if (openAiDone) {
                out.write(DONE);
            }
            out.flush();
            return all;
        } catch (IOException e) {
            g.cancel(); // the client left
            return null;
        } catch (InterruptedException e) {
            g.cancel();
            Thread.currentThread().interrupt();
            return null;
        } finally {
            if (session != null) {
                session.finish();
            }
        }
    }

    private void send(Tee out, Format format, ObjectNode chunk) throws IOException {
        String event = format.event(chunk);
        byte[] data = json.writeValueAsBytes(chunk); // JSON strings escape newlines: one data line
        byte[] head = event == null ? DATA : ("event: " + event + "\ndata: ").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + data.length + END.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(data, 0, all, head.length, data.length);
        System.arraycopy(END, 0, all, head.length + data.length, END.length);
        out.write(all); // one write: a conversation's stream holds whole events
    }

    /**
     * The client's connection and, when the request names a conversation, its stream: every byte
     * goes to both (pings included, so that the client's byte count is the stream's offset). Without
     * a stream a failed write fails the pump (the client left); with one, the client is dropped and
     * the bytes go on into the stream.
     */
    private static final class Tee {
        private OutputStream client;
        private final ConversationStream session;

        Tee(OutputStream client, ConversationStream session) {
            this.client = client;
            this.session = session;
        }

        void write(byte[] b) throws IOException {
            if (session != null) {
                session.append(b);
            }
            if (client != null) {
                try {
                    client.write(b);
                } catch (IOException e) {
                    leave(e);
                }
            }
        }

        void flush() throws IOException {
            if (client != null) {
                try {
                    client.flush();
                } catch (IOException e) {
                    leave(e);
                }
            }
        }

        private void leave(IOException e) throws IOException {
            if (session == null) {
                throw e;
            }
            client = null; // the generation goes on for the conversation's stream
        }
    }

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
}
