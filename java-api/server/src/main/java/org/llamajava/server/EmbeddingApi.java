package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.llamajava.Vocabulary;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.Reranker;
import org.llamajava.embed.ScoredDocument;

/**
 * {@code /v1/embeddings} and {@code /v1/rerank}. The {@link Embedder} (or {@link Reranker}) is
 * single-threaded, so one worker thread runs the requests in turn from a queue of
 * {@link ServerConfig#maxQueue()}; past it the server answers 503.
 */
final class EmbeddingApi implements AutoCloseable {
    private final ServerContext server;
    private final ThreadPoolExecutor worker;
    private final boolean rerank;
    private Embedder embedder;
    private Reranker reranker;

    EmbeddingApi(ServerContext server, boolean rerank) {
        this.server = server;
        this.rerank = rerank;
        ServerConfig c = server.config();
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(c.maxQueue()), r -> {
            Thread t = new Thread(r, rerank ? "llama-java-reranker" : "llama-java-embedder");
            t.setDaemon(true);
            return t;
        });
        int train = server.model().trainingContextLength();
        EmbedderParams params = EmbedderParams.builder().threads(c.threads())
                .contextSize(train > 0 ? Math.min(c.contextSize(), train) : c.contextSize()).build();
        try {
            worker.submit(() -> {
                if (rerank) {
                    reranker = Reranker.create(server.model(), params);
                } else {
                    embedder = Embedder.create(server.model(), params);
                }
            }).get();
        } catch (ExecutionException e) {
            worker.shutdownNow();
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the embedder", e);
        }
    }

    /** Requests waiting for the worker. */
    int queued() {
        return worker.getQueue().size();
    }

    void embeddings(Context ctx) {
        if (rerank) {
            throw ApiException.notSupported("this server was started for reranking (--reranking): it serves /v1/rerank");
        }
        JsonBody b = server.read(ctx);
        List<String> inputs = inputs(b);
        String format = b.string("encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalid("encoding_format", "'encoding_format' must be \"float\" or \"base64\"");
        }
        int dims = (int) b.integer("dimensions", 0, 1, Integer.MAX_VALUE);
        record Result(List<float[]> vectors, int tokens) {}
        Result r = call(() -> {
            int tokens = 0;
            for (String s : inputs) {
                tokens += embedder.tokenize(s).length;
            }
            return new Result(embedder.embedAll(inputs), tokens);
        });
        if (dims != 0 && dims != embedder.dimension()) {
            throw ApiException.invalid("dimensions", "this model's embeddings have " + embedder.dimension()
                    + " dimensions; leave 'dimensions' out or send that");
        }
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (int i = 0; i < r.vectors().size(); i++) {
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            float[] v = r.vectors().get(i);
            if (format.equals("base64")) {
                ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(v);
                e.put("embedding", Base64.getEncoder().encodeToString(buf.array()));
            } else {
                ArrayNode a = e.putArray("embedding");
                for (float x : v) {
                    a.add(x);
                }
            }
        }
        o.put("model", server.modelName());
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", r.tokens());
        usage.put("total_tokens", r.tokens());
        ctx.contentType("application/json").result(server.json(o));
    }

    private List<String> inputs(JsonBody b) {
        JsonNode v = b.get("input");
        if (v == null) {
            throw ApiException.invalid("input", "'input' is required: a string or an array of strings");
        }
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.textValue());
        } else if (v.isArray() && !v.isEmpty() && v.get(0).isTextual()) {
            if (v.size() > server.config().maxInputs()) {
                throw ApiException.invalid("input", "'input' has " + v.size() + " items; this server takes at most "
                        + server.config().maxInputs() + " per request");
            }
            for (JsonNode e : v) {
                if (!e.isTextual()) {
                    throw JsonBody.wrongType("input", "a string or an array of strings", v);
                }
                out.add(e.textValue());
            }
        } else if (v.isArray() && !v.isEmpty() && (v.get(0).isNumber() || v.get(0).isArray())) {
            throw ApiException.invalid("input", "send 'input' as text: token ids are not supported for embeddings");
        } else {
            throw ApiException.invalid("input", "'input' must be a string or a non-empty array of strings, not "
                    + JsonBody.kind(v));
        }
        return out;
    }

    void rerank(Context ctx) {
        if (!rerank) {
            throw ApiException.notSupported("this server does not rerank: start it with --reranking and a reranking model");
        }
        JsonBody b = server.read(ctx);
        String query = b.requireString("query");
        JsonNode d = b.get("documents");
        if (d == null || !d.isArray()) {
            throw ApiException.invalid("documents", "'documents' is required: an array of strings");
        }
        if (d.size() > server.config().maxInputs()) {
            throw ApiException.invalid("documents", "'documents' has " + d.size() + " items; this server takes at most "
                    + server.config().maxInputs() + " per request");
        }
        List<String> docs = new ArrayList<>();
        for (JsonNode e : d) {
            JsonNode text = e.isObject() ? e.get("text") : e;
            if (text == null || !text.isTextual()) {
                throw JsonBody.wrongType("documents", "an array of strings (or of {\"text\": ...} objects)", d);
            }
            docs.add(text.textValue());
        }
        int topN = (int) b.integer("top_n", docs.size(), 0, Integer.MAX_VALUE);
        boolean returnDocs = b.bool("return_documents", false);
        Vocabulary vocab = server.model().vocabulary();
        record Result(List<ScoredDocument> best, int tokens) {}
        Result r = call(() -> {
            int tokens = 0;
            for (String doc : docs) {
                tokens += vocab.tokenize(reranker.format(query, doc), true, true).length;
            }
            return new Result(reranker.topK(query, docs, topN), tokens);
        });
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("object", "list");
        o.put("model", server.modelName());
        ArrayNode results = o.putArray("results");
        for (ScoredDocument s : r.best()) {
            ObjectNode e = results.addObject();
            e.put("index", s.index());
            e.put("relevance_score", s.score());
            if (returnDocs) {
                e.putObject("document").put("text", s.document());
            }
        }
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", r.tokens());
        usage.put("total_tokens", r.tokens());
        ctx.contentType("application/json").result(server.json(o));
    }

    /** Runs a task on the worker: 503 if its queue is full; an IllegalArgumentException (e.g. an input too long) is a 400. */
    private <T> T call(Callable<T> task) {
        Future<T> f;
        try {
            f = worker.submit(task);
        } catch (RejectedExecutionException e) {
            throw ApiException.unavailable("the embedder is busy and " + server.config().maxQueue()
                    + " requests are waiting: retry later");
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("the server is shutting down");
        } catch (ExecutionException e) {
            Throwable t = e.getCause();
            if (t instanceof IllegalArgumentException) {
                throw ApiException.invalid(t.getMessage());
            }
            throw t instanceof RuntimeException r ? r : new IllegalStateException(String.valueOf(t), t);
        }
    }

    /** Stops the worker after the requests it holds, then frees the embedder. */
    @Override
    public void close() {
        worker.shutdown();
        try {
            worker.awaitTermination(server.config().drainTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        worker.shutdownNow();
        if (embedder != null) {
            embedder.close();
        }
        if (reranker != null) {
            reranker.close();
        }
    }
}
