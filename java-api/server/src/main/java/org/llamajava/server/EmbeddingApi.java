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
import org.llamajava.embed.Normalization;
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
        EmbedderParams.Builder pb = EmbedderParams.builder();
        if (!rerank && c.pooling() != org.llamajava.Pooling.MODEL) {
            pb.pooling(c.pooling());
        }
        // vectors as the model computes them: each request's embd_normalize scales them (pooling none: never)
        EmbedderParams params = pb.threads(c.threads()).normalization(rerank ? Normalization.L2 : Normalization.NONE)
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

    /** OpenAI's {@code /v1/embeddings}: one vector per input ({@code "content"} instead of {@code "input"}: llama-server's own shape). */
    void embeddings(Context ctx) {
        embeddings(ctx, true);
    }

    /**
     * llama-server's {@code /embeddings}: {@code [{"index", "embedding": [[...]]}]}, the pooled
     * vector, or with pooling none one vector per token (not normalized).
     */
    void nativeEmbeddings(Context ctx) {
        embeddings(ctx, false);
    }

    private void embeddings(Context ctx, boolean openAi) {
        if (rerank) {
            throw ApiException.notSupported("this server was started for reranking (--reranking): it serves /v1/rerank");
        }
        JsonBody b = server.read(ctx);
        boolean perToken = embedder.pooling() == org.llamajava.Pooling.NONE;
        if (openAi && !b.has("input") && b.has("content")) {
            openAi = false; // as llama-server: "content" is not OpenAI's, the reply is its own shape
        }
        if (openAi && perToken) { // llama-server's words
            throw ApiException.invalid("Pooling type 'none' is not OAI compatible. Please use a different pooling type");
        }
        List<Object> inputs = inputs(b);
        String format = b.string("encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalid("encoding_format", "'encoding_format' must be \"float\" or \"base64\"");
        }
        int dims = (int) b.integer("dimensions", 0, 1, Integer.MAX_VALUE);
        Normalization norm = new Normalization((int) b.integer("embd_normalize", 2, -1, 64));
        Vocabulary vocab = server.model().vocabulary();
        List<int[]> ids = new ArrayList<>();
        int tokens = 0;
        for (Object in : inputs) {
            // text as the Embedder tokenizes it (special tokens added and parsed; the server gives no prefix)
            int[] t = in instanceof String s ? vocab.tokenize(s, true, true) : (int[]) in;
            if (t.length == 0) {
                throw ApiException.invalid("input", "Input content cannot be empty");
            }
            if (t.length > embedder.contextSize()) { // llama-server's words
                throw ApiException.invalid("input", "input (" + t.length + " tokens) is too large to process. increase"
                        + " the physical batch size (current batch size: " + embedder.contextSize() + ")");
            }
            tokens += t.length;
            ids.add(t);
        }
        if (dims != 0 && dims != embedder.dimension()) {
            throw ApiException.invalid("dimensions", "this model's embeddings have " + embedder.dimension()
                    + " dimensions; leave 'dimensions' out or send that");
        }
        // one list per input: its pooled vector, or (pooling none) one per token
        int[] decodes = new int[1];
        List<List<float[]>> vectors = call(() -> {
            List<List<float[]>> out = new ArrayList<>();
            if (perToken) {
                for (int[] t : ids) {
                    out.add(embedder.embedTokens(t)); // one decode: an input fits the context
                    decodes[0]++;
                }
            } else {
                for (float[] v : embedder.embedAllTokens(ids, (done, total) -> decodes[0]++)) {
                    out.add(List.of(norm.apply(v)));
                }
            }
            return out;
        });
        server.metrics().embedded(tokens, decodes[0]);
        if (!openAi) {
            ArrayNode list = OpenAiFormat.F.arrayNode();
            for (int i = 0; i < vectors.size(); i++) {
                ObjectNode e = list.addObject();
                e.put("index", i);
                ArrayNode rows = e.putArray("embedding");
                for (float[] v : vectors.get(i)) {
                    ArrayNode a = rows.addArray();
                    for (float x : v) {
                        a.add(x);
                    }
                }
            }
            ctx.contentType("application/json").result(server.json(list));
            return;
        }
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (int i = 0; i < vectors.size(); i++) {
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            float[] v = vectors.get(i).get(0);
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
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        ctx.contentType("application/json").result(server.json(o));
    }

    /**
     * The inputs, as llama-server reads them: a string; token ids (with strings among them,
     * tokenized in place: one input); or an array of those. Each is its text (null for token
     * input) or its tokens.
     */
    private List<Object> inputs(JsonBody b) {
        JsonNode v = b.has("input") ? b.get("input") : b.get("content"); // llama-server's /embeddings: "content"
        if (v == null) {
            throw ApiException.invalid("input", "'input' is required: a string or an array of strings");
        }
        List<Object> out = new ArrayList<>();
        if (v.isArray() && !v.isEmpty() && !mixed(v)) {
            if (v.size() > server.config().maxInputs()) {
                throw ApiException.invalid("input", "'input' has " + v.size() + " items; this server takes at most "
                        + server.config().maxInputs() + " per request");
            }
            for (JsonNode e : v) {
                out.add(one(e));
            }
        } else {
            out.add(one(v));
        }
        return out;
    }

    /** Token ids and strings, at least one id: one input. */
    private static boolean mixed(JsonNode v) {
        boolean id = false;
        for (JsonNode e : v) {
            if (e.isIntegralNumber()) {
                id = true;
            } else if (!e.isTextual()) {
                return false;
            }
        }
        return id;
    }

    private Object one(JsonNode v) {
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isArray() && !v.isEmpty() && mixed(v)) {
            Vocabulary vocab = server.model().vocabulary();
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                if (e.isTextual()) {
                    for (int t : vocab.tokenize(e.textValue(), false, true)) {
                        ids.add(t);
                    }
                } else {
                    ids.add((int) JsonBody.integer("input", e, 0, vocab.size() - 1));
                }
            }
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }
        throw ApiException.invalid("input", "'input' must be a string, token ids, or an array of those, not "
                + JsonBody.kind(v));
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
