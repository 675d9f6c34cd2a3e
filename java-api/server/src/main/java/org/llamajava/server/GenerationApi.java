package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.GeneratedToken;
import org.llamajava.Infill;
import org.llamajava.InfillChunk;
import org.llamajava.Vocabulary;
import org.llamajava.batch.BatchEngine;
import org.llamajava.chat.ChatFormat;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatParser;
import org.llamajava.chat.ChatReplyStream;
import org.llamajava.chat.ChatStreamListener;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.chat.ToolCall;

/**
 * {@code /v1/chat/completions}, {@code /v1/completions} and {@code /infill}: one prompt, {@code n}
 * choices, blocking or streamed.
 */
final class GenerationApi {
    private final ServerContext server;
    private final BatchEngine engine;
    private final Vocabulary vocab;
    private final ChatTemplate template;
    /** A request's max_tokens when it gives none: the server's -n, or a slot's size. */
    private final int maxTokens;
    /**
     * The most tokens a request may ask for (llama-server's -n is a default, not a cap): a slot's
     * size, or {@link ServerConfig#MAX_SHIFTED_TOKENS} when the context shifts.
     */
    private final int slotTokens;
    private final int maxPromptTokens;

    /** Images in chats: the projector, or null. */
    private final org.llamajava.multimodal.Projector projector;
    private final LoraApi loras;

    GenerationApi(ServerContext server, BatchEngine engine, ChatTemplate template,
                  org.llamajava.multimodal.Projector projector, LoraApi loras) {
        this.projector = projector;
        this.loras = loras;
        this.server = server;
        this.engine = engine;
        this.vocab = server.model().vocabulary();
        this.template = template;
        int slot = engine.tokensPerSlot();
        ServerConfig c = server.config();
        int cap = engine.contextShift() ? ServerConfig.MAX_SHIFTED_TOKENS : slot;
        this.maxTokens = c.maxTokens() > 0 ? Math.min(c.maxTokens(), cap) : cap;
        this.slotTokens = cap;
        this.maxPromptTokens = Math.min(slot - 1, c.maxPromptTokens() > 0 ? c.maxPromptTokens() : slot - 1);
    }

    /**
     * llama-server's {@code POST /apply-template}: the prompt a chat request's messages (and tools)
     * render to with the server's template, without generating; {@code add_generation_prompt}
     * (default true) ends it with the assistant's turn header.
     */
    void applyTemplate(Context ctx) {
        JsonBody b = server.read(ctx);
        boolean addGenerationPrompt = b.bool("add_generation_prompt", true);
        ChatPrompt chat = ChatPrompt.prepare(b, template, vocab, projector != null, server.config().chatDefaults(),
                addGenerationPrompt);
        com.fasterxml.jackson.databind.node.ObjectNode out = server.mapper().createObjectNode();
        out.put("prompt", chat.text());
        ctx.contentType("application/json").result(server.json(out));
    }

    void chat(Context ctx) {
        JsonBody b = server.read(ctx);
        ChatPrompt chat = ChatPrompt.prepare(b, template, vocab, projector != null, server.config().chatDefaults(), true,
                false, server.config().jinja());
        SamplingParams p = SamplingParams.read(b, true, maxTokens, slotTokens, server.config().maxN(), vocab, loras, server.config().sampling());
        if (!chat.media().isEmpty()) {
            withImages(ctx, chat, p);
            return;
        }
        checkPrompt(chat.tokens());
        String id = OpenAiFormat.id("chatcmpl-");
        long created = OpenAiFormat.now();
        if (!p.stream()) {
            Generation g = Generation.start(engine, chat.tokens(), p, chat.grammar(), chat.stops(), null);
            List<Completion> done = g.await(ctx);
            server.metrics().generation(g, done);
            ObjectNode o = chatResponse(id, created, g, done, chat.format());
            if (server.config().verbose() || b.bool("verbose", false)) {
                o.putObject("__verbose").put("prompt", vocab.detokenize(chat.tokens(), false, true))
                        .put("content", done.get(0).text());
            }
            ctx.contentType("application/json").result(server.json(o));
            return;
        }
        SseStream stream = new SseStream(server.mapper());
        Generation g = Generation.start(engine, chat.tokens(), p, chat.grammar(), chat.stops(), stream);
        try (ChatChunks chunks = new ChatChunks(id, created, chat.tokens().length, p, chat.format())) {
            server.metrics().generation(g, pump(ctx, stream, g, chunks));
        }
    }

    /**
     * Streams {@code g}, recorded in the request's conversation stream as well when it names one
     * ({@link ConversationStreams#HEADER}): then its generation outlives its client.
     */
    private List<Completion> pump(Context ctx, SseStream stream, Generation g, SseStream.Format format) {
        ConversationStream session;
        try {
            session = server.streams().open(ctx.header(ConversationStreams.HEADER));
        } catch (RuntimeException e) {
            g.cancel();
            throw e;
        }
        return stream.pump(ctx.res(), g, format, session);
    }

    /**
     * Anthropic's {@code POST /v1/messages}: see {@link AnthropicApi}. Images are not served
     * here yet (400).
     */
    void messages(Context ctx) {
        JsonBody b = AnthropicApi.toOpenAi(server.read(ctx), projector != null);
        String id = OpenAiFormat.id("msg_");
        translatedChat(ctx, b, true, "/v1/messages",
                (chat, c, reply) -> AnthropicApi.message(id, server.modelName(), c, reply, chat.tokens().length),
                chat -> new AnthropicApi.Chunks(id, server.modelName(), chat.tokens().length, chat.format()));
    }

    /**
     * A request of another API turned into a chat request ({@code b}): generated as a chat,
     * answered whole by {@code whole} or streamed as {@code chunks}' named events.
     */
    private void translatedChat(Context ctx, JsonBody b, boolean allowEmpty, String endpoint, WholeReply whole,
                                java.util.function.Function<ChatPrompt, EventChunks> chunks) {
        ChatPrompt chat = ChatPrompt.prepare(b, template, vocab, projector != null, server.config().chatDefaults(), true,
                allowEmpty, server.config().jinja());
        SamplingParams p = SamplingParams.read(b, true, maxTokens, slotTokens, 1, vocab, loras, server.config().sampling());
        if (!chat.media().isEmpty()) {
            throw ApiException.invalid("messages", "images in " + endpoint + " are not supported yet: send them to"
                    + " /v1/chat/completions as image_url parts");
        }
        checkPrompt(chat.tokens());
        if (!p.stream()) {
            Generation g = Generation.start(engine, chat.tokens(), p, chat.grammar(), chat.stops(), null);
            List<Completion> done = g.await(ctx);
            server.metrics().generation(g, done);
            Completion c = done.get(0);
            ctx.contentType("application/json").result(server.json(whole.answer(chat, c, reply(chat.format(), c.text()))));
            return;
        }
        SseStream stream = new SseStream(server.mapper(), false);
        Generation g = Generation.start(engine, chat.tokens(), p, chat.grammar(), chat.stops(), stream);
        try (EventChunks events = chunks.apply(chat)) {
            server.metrics().generation(g, pump(ctx, stream, g, events));
        }
    }

    /** A translated chat's whole answer. */
    @FunctionalInterface
    private interface WholeReply {
        ObjectNode answer(ChatPrompt chat, Completion completion, ChatMessage reply);
    }

    /** llama-server's {@code POST /chat/completions/input_tokens}: {@code {"input_tokens"}} of a chat request's prompt. */
    void chatInputTokens(Context ctx) {
        inputTokens(ctx, server.read(ctx), false);
    }

    /** {@code {"input_tokens"}}: the tokens of the prompt chat request {@code b} renders to. */
    private void inputTokens(Context ctx, JsonBody b, boolean allowEmpty) {
        ChatPrompt chat = ChatPrompt.prepare(b, template, vocab, projector != null, server.config().chatDefaults(), true,
                allowEmpty);
        ObjectNode o = server.mapper().createObjectNode();
        o.put("input_tokens", chat.media().isEmpty() ? chat.tokens().length
                : ChatTemplate.promptTokens(chat.text(), vocab).length);
        ctx.contentType("application/json").result(server.json(o));
    }

    /**
     * OpenAI's {@code POST /v1/responses}: see {@link ResponsesApi}. Images are not served here
     * yet (400).
     */
    void responses(Context ctx) {
        JsonBody original = server.read(ctx);
        String id = OpenAiFormat.id("resp_");
        long created = OpenAiFormat.now();
        translatedChat(ctx, ResponsesApi.toOpenAi(original), false, "/v1/responses",
                (chat, c, reply) -> ResponsesApi.response(id, created, server.modelName(), "completed",
                        ResponsesApi.output(OpenAiFormat.id("msg_"), reply), ResponsesApi.usage(chat.tokens().length, c)),
                chat -> new ResponsesApi.Chunks(id, created, server.modelName(), chat.tokens().length, chat.format(),
                        original.bool("timings_per_token", false)));
    }

    /** llama-server's {@code POST /v1/responses/input_tokens}: {@code {"input_tokens"}} of a Responses request's prompt. */
    void responsesInputTokens(Context ctx) {
        inputTokens(ctx, ResponsesApi.toOpenAi(server.read(ctx)), true);
    }

    /** Anthropic's {@code POST /v1/messages/count_tokens}: {@code {"input_tokens"}} of the rendered prompt. */
    void countTokens(Context ctx) {
        inputTokens(ctx, AnthropicApi.toOpenAi(server.read(ctx), projector != null), true);
    }

    /**
     * A chat request with images: through the batching engine like any request (its slots keep
     * images, so a follow-up reuses them), answered whole, with one choice.
     */
    private void withImages(Context ctx, ChatPrompt chat, SamplingParams p) {
        if (p.stream() || p.n() != 1) {
            throw ApiException.invalid("stream", "requests with images are answered whole, with one choice:"
                    + " set \"stream\": false and \"n\": 1");
        }
        String id = OpenAiFormat.id("chatcmpl-");
        long created = OpenAiFormat.now();
        Completion c;
        org.llamajava.Sampler.Builder sb = p.sampler(0);
        if (chat.grammar() != null) {
            sb.grammar(chat.grammar());
        }
        List<String> stops = new ArrayList<>(p.stop());
        chat.stops().stream().filter(st -> !stops.contains(st)).forEach(stops::add);
        org.llamajava.batch.BatchHandle h;
        try {
            h = projector.submit(engine, chat.text(), chat.media(), sb, p.options().stop(stops).build(), p.lora());
        } catch (org.llamajava.ContextOverflowException e) {
            throw new ApiException(400, "invalid_request_error", "context_length_exceeded", null, e.getMessage());
        } catch (org.llamajava.batch.QueueFullException e) {
            throw ApiException.unavailable(e.getMessage());
        } catch (org.llamajava.LlamaException | IllegalArgumentException e) {
            throw ApiException.invalid("messages", e.getMessage());
        } catch (IllegalStateException e) {
            throw ApiException.unavailable("the server is shutting down: " + e.getMessage());
        }
        try {
            c = h.completion().get();
        } catch (InterruptedException e) {
            h.cancel();
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        }
        ObjectNode o = head(id, "chat.completion", created);
        ObjectNode ch = o.putArray("choices").addObject();
        ChatMessage reply = reply(chat.format(), c.text());
        ch.put("index", 0);
        ObjectNode m = ch.putObject("message");
        m.put("role", "assistant");
        m.put("content", reply.content());
        if (reply.hasToolCalls()) {
            m.set("tool_calls", toolCalls(reply.toolCalls(), false));
        }
        m.putNull("refusal");
        ch.putNull("logprobs");
        ch.put("finish_reason", finishReason(c, reply));
        int promptTokens = c.promptTokens() + c.cachedTokens();
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", c.tokenCount());
        usage.put("total_tokens", promptTokens + c.tokenCount());
        usage.putObject("prompt_tokens_details").put("cached_tokens", c.cachedTokens()).put("image_tokens",
                c.mediaTokens());
        ctx.contentType("application/json").result(server.json(o));
    }

    void completions(Context ctx) {
        JsonBody b = server.read(ctx);
        int[] prompt = checkPrompt(prompt(b));
        if (b.bool("echo", false)) {
            throw ApiException.invalid("echo", "'echo' is not supported: the prompt is what you sent");
        }
        if (b.integer("best_of", 1, 1, 1) != 1 || b.has("suffix")) {
            throw ApiException.invalid("'best_of' and 'suffix' are not supported (fill-in-the-middle: POST /infill with"
                    + " input_prefix and input_suffix)");
        }
        complete(ctx, b, prompt);
    }

    /**
     * llama-server's {@code /infill}: {@code input_prefix} and {@code input_suffix} (required
     * strings), {@code input_extra} (an array of {@code {"filename", "text"}}, other files of the
     * project), {@code prompt} (the start of the middle, after the FIM middle token), formatted
     * with the model's FIM tokens as llama-server does ({@link Infill}: a slot's size and the
     * server's batch size budget the parts, {@code -n} the extra context), then generated and
     * answered as {@code /v1/completions} answers, streamed or not, with the same fields. A model
     * without FIM tokens answers 501, as llama-server does.
     */
    void infill(Context ctx) {
        try {
            Infill.checkSupported(vocab);
        } catch (UnsupportedOperationException e) {
            throw ApiException.notSupported(e.getMessage());
        }
        JsonBody b = server.read(ctx);
        Infill.Builder req = Infill.builder().prefix(b.requireString("input_prefix"))
                .suffix(b.requireString("input_suffix")).prompt(b.string("prompt", ""))
                .predictBudget(server.config().maxTokens() > 0 ? server.config().maxTokens() : -1);
        JsonNode extra = b.get("input_extra");
        if (extra != null) {
            if (!extra.isArray()) {
                throw JsonBody.wrongType("input_extra", "an array of {\"filename\": string, \"text\": string}", extra);
            }
            for (JsonNode chunk : extra) {
                JsonNode text = chunk.get("text");
                JsonNode file = chunk.get("filename");
                if (!chunk.isObject() || text == null || !text.isTextual()) {
                    throw ApiException.invalid("input_extra", "each 'input_extra' chunk must be an object with a"
                            + " \"text\" string (and optionally a \"filename\" string)");
                }
                if (file != null && !file.isNull() && !file.isTextual()) {
                    throw ApiException.invalid("input_extra", "an 'input_extra' chunk's \"filename\" must be a string");
                }
                req.extra(new InfillChunk(file == null || file.isNull() ? "tmp" : file.textValue(), text.textValue()));
            }
        }
        int[] prompt = checkPrompt(req.build().tokens(vocab, engine.tokensPerSlot(), engine.params().batchSize()));
        complete(ctx, b, prompt);
    }

    /** Generates from {@code prompt} with the request's sampling fields, answered as {@code /v1/completions}. */
    private void complete(Context ctx, JsonBody b, int[] prompt) {
        SamplingParams p = SamplingParams.read(b, false, maxTokens, slotTokens, server.config().maxN(), vocab, loras, server.config().sampling());
        String id = OpenAiFormat.id("cmpl-");
        long created = OpenAiFormat.now();
        if (!p.stream()) {
            Generation g = Generation.start(engine, prompt, p, null);
            List<Completion> done = g.await(ctx);
            server.metrics().generation(g, done);
            ctx.contentType("application/json").result(server.json(completionResponse(id, created, g, done)));
            return;
        }
        SseStream stream = new SseStream(server.mapper());
        Generation g = Generation.start(engine, prompt, p, stream);
        server.metrics().generation(g, pump(ctx, stream, g, new CompletionChunks(id, created, prompt.length, p)));
    }

    /**
     * llama-server's native {@code POST /completion} (and {@code /completions}): the prompt (a
     * string or token ids), llama-server's sampling fields ({@code n_predict}, {@code temperature},
     * {@code seed}, ...), {@code return_tokens}; answered in llama-server's own shape
     * ({@code content}, {@code tokens}, {@code stop}, {@code stop_type}, {@code timings},
     * {@code generation_settings}, ...), streamed as its events (no {@code [DONE]}) when asked.
     */
    void nativeCompletion(Context ctx) {
        JsonBody b = server.read(ctx);
        List<int[]> prompts = nativePrompts(b);
        prompts.forEach(this::checkPrompt);
        SamplingParams p = SamplingParams.read(b, false, maxTokens, slotTokens, 1, vocab, loras, server.config().sampling());
        boolean returnTokens = b.bool("return_tokens", false);
        boolean postSampling = b.bool("post_sampling_probs", false);
        List<String> fields = b.strings("response_fields", 64);
        if (!p.stream()) {
            if (prompts.size() > server.config().maxN()) {
                throw ApiException.invalid("prompt", "'prompt' has " + prompts.size() + " prompts; at most "
                        + server.config().maxN() + " per request");
            }
            List<Generation> gs = new ArrayList<>();
            try {
                for (int[] prompt : prompts) {
                    gs.add(Generation.start(engine, prompt, p, null));
                }
            } catch (RuntimeException e) {
                gs.forEach(Generation::cancel);
                throw e;
            }
            ArrayNode all = OpenAiFormat.F.arrayNode();
            for (int i = 0; i < gs.size(); i++) {
                Generation g = gs.get(i);
                List<Completion> done;
                try {
                    done = g.await(ctx);
                } catch (RuntimeException e) {
                    gs.forEach(Generation::cancel);
                    throw e;
                }
                server.metrics().generation(g, done);
                NativeFormat f = new NativeFormat(b, prompts.get(i), p, returnTokens, postSampling);
                ObjectNode o = f.finalChunk(done.get(0));
                o.put("index", i);
                o.put("content", done.get(0).text());
                if (p.logprobs()) {
                    o.set("completion_probabilities", nativeProbs(g.choices.get(0).tokens, p.topLogprobs(), postSampling));
                }
                all.add(fields.isEmpty() ? o : pick(o, fields));
            }
            ctx.contentType("application/json").result(server.json(all.size() == 1 ? all.get(0) : all));
            return;
        }
        if (prompts.size() != 1) {
            throw ApiException.invalid("prompt", "a streamed /completion takes one prompt; got " + prompts.size());
        }
        NativeFormat f = new NativeFormat(b, prompts.get(0), p, returnTokens, postSampling);
        SseStream stream = new SseStream(server.mapper(), false);
        Generation g = Generation.start(engine, prompts.get(0), p, stream);
        server.metrics().generation(g, pump(ctx, stream, g, f));
    }

    /** llama-server's {@code prompt_progress}: {@code total}, {@code cache}, {@code processed}, {@code time_ms}. */
    private static ObjectNode progress(int total, int cached, int processed, long nanos) {
        ObjectNode p = OpenAiFormat.F.objectNode();
        p.put("total", total);
        p.put("cache", cached);
        p.put("processed", processed);
        p.put("time_ms", processed > cached ? nanos / 1e6 : 0);
        return p;
    }

    /** llama-server's {@code response_fields}: only these fields, a {@code a/b} path flattened to its key. */
    private static ObjectNode pick(ObjectNode o, List<String> fields) {
        ObjectNode out = OpenAiFormat.F.objectNode();
        for (String f : fields) {
            JsonNode v = o.at("/" + f);
            if (!v.isMissingNode()) {
                out.set(f, v);
            }
        }
        return out;
    }

    /**
     * llama-server's {@code completion_probabilities}: per generated token its id, text, bytes and
     * log-probability with the {@code top} most likely tokens ({@code top_logprobs}); with
     * {@code post_sampling_probs}, probabilities instead ({@code prob}, {@code top_probs}), the
     * alternatives renormalized over those reported, none of probability 0.
     */
    private ArrayNode nativeProbs(List<GeneratedToken> tokens, int top, boolean postSampling) {
        ArrayNode a = OpenAiFormat.F.arrayNode();
        for (GeneratedToken t : tokens) {
            ObjectNode e = probEntry(t.token(), t.logprob(), postSampling);
            ArrayNode alts = e.putArray(postSampling ? "top_probs" : "top_logprobs");
            for (org.llamajava.TokenProbability alt : t.alternatives().subList(0, Math.min(top, t.alternatives().size()))) {
                if (postSampling && !(Math.exp(alt.logprob()) > 0)) {
                    continue;
                }
                alts.add(probEntry(alt.token(), alt.logprob(), postSampling));
            }
            a.add(e);
        }
        return a;
    }

    private ObjectNode probEntry(int token, float logprob, boolean asProb) {
        String piece = vocab.tokenPiece(token);
        ObjectNode e = OpenAiFormat.F.objectNode();
        e.put("id", token);
        e.put("token", piece);
        ArrayNode bytes = e.putArray("bytes");
        for (byte x : piece.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            bytes.add(x & 0xff);
        }
        if (asProb) {
            e.put("prob", Math.exp(logprob));
        } else {
            e.put("logprob", logprob);
        }
        return e;
    }

    /**
     * The prompts of a native {@code /completion}, as llama-server reads {@code prompt}: a string, a
     * JSON prompt ({@code {"prompt_string"}}; {@code multimodal_data} needs a projector), an array
     * of token ids and strings (one prompt, the strings tokenized in place), or an array of such
     * prompts (one answer each, in a JSON array).
     */
    private List<int[]> nativePrompts(JsonBody b) {
        JsonNode v = b.get("prompt");
        if (v == null) {
            throw ApiException.invalid("prompt", "'prompt' is required: a string, token ids, or an array of prompts");
        }
        List<int[]> out = new ArrayList<>();
        if (v.isArray() && !v.isEmpty() && !isMixed(v)) {
            if (v.size() > 1024) {
                throw ApiException.invalid("prompt", "'prompt' has " + v.size() + " prompts; at most 1024");
            }
            for (JsonNode one : v) {
                out.add(onePrompt(one));
            }
        } else {
            out.add(onePrompt(v));
        }
        return out;
    }

    /** An array of token ids and strings, with at least one id: one prompt. */
    private static boolean isMixed(JsonNode v) {
        boolean number = false;
        for (JsonNode e : v) {
            if (e.isIntegralNumber()) {
                number = true;
            } else if (!e.isTextual()) {
                return false;
            }
        }
        return number;
    }

    private int[] onePrompt(JsonNode v) {
        if (v.isTextual()) {
            return vocab.tokenize(v.textValue(), true, true);
        }
        if (v.isObject()) {
            JsonNode media = v.get("multimodal_data");
            if (media != null && !media.isNull() && !(media.isArray() && media.isEmpty())) {
                throw ApiException.invalid("prompt", "this server reads no multimodal_data: it was started without a"
                        + " projector (serve --mmproj FILE); send images to /v1/chat/completions");
            }
            JsonNode text = v.get("prompt_string");
            if (text == null || !text.isTextual()) {
                throw ApiException.invalid("prompt", "a JSON prompt is {\"prompt_string\": \"...\"}");
            }
            return vocab.tokenize(text.textValue(), true, true);
        }
        if (v.isArray() && !v.isEmpty()) {
            List<int[]> parts = new ArrayList<>();
            int n = 0;
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                int[] part;
                if (e.isTextual()) {
                    part = vocab.tokenize(e.textValue(), i == 0, true); // as llama-server: special tokens only first
                } else {
                    part = new int[] {(int) JsonBody.integer("prompt", e, 0, vocab.size() - 1)};
                }
                parts.add(part);
                n += part.length;
            }
            int[] all = new int[n];
            int at = 0;
            for (int[] part : parts) {
                System.arraycopy(part, 0, all, at, part.length);
                at += part.length;
            }
            return all;
        }
        throw ApiException.invalid("prompt", "'prompt' must be a string, an array of token ids (and strings), a JSON"
                + " prompt {\"prompt_string\"}, or an array of those, not " + JsonBody.kind(v));
    }

    /** llama-server's native completion JSON, and its stream's events. */
    private final class NativeFormat implements SseStream.Format {
        private final String promptText;
        private final int promptTokens;
        private final SamplingParams p;
        private final boolean returnTokens;
        private final boolean postSampling;
        private int predicted;

        NativeFormat(JsonBody b, int[] prompt, SamplingParams p, boolean returnTokens, boolean postSampling) {
            // llama-server's "prompt" field: the prompt's tokens as text, special tokens shown
            this.promptText = vocab.detokenize(prompt, false, true);
            this.promptTokens = prompt.length;
            this.p = p;
            this.returnTokens = returnTokens;
            this.postSampling = postSampling;
        }

        private ObjectNode base(String content, boolean stop) {
            ObjectNode o = server.mapper().createObjectNode();
            o.put("index", 0);
            o.put("content", content);
            o.put("id_slot", -1);
            o.put("stop", stop);
            o.put("model", server.modelName());
            o.put("tokens_predicted", predicted);
            o.put("tokens_evaluated", promptTokens);
            return o;
        }

        @Override
        public ObjectNode text(int choice, String text, List<GeneratedToken> tokens) {
            predicted += tokens == null ? 0 : tokens.size();
            ObjectNode o = base(text, false);
            ArrayNode ids = o.putArray("tokens");
            if (tokens != null) {
                tokens.forEach(t -> ids.add(t.token()));
                if (p.logprobs()) {
                    o.set("completion_probabilities", nativeProbs(tokens, p.topLogprobs(), postSampling));
                }
            }
            return o;
        }

        @Override
        public ObjectNode finish(int choice, Completion c, List<GeneratedToken> tokens) {
            return finalChunk(c);
        }

        @Override
        public List<ObjectNode> progressChunks(int choice, int total, int cached, int processed, long nanos) {
            ObjectNode o = base("", false);
            o.putArray("tokens");
            o.set("prompt_progress", progress(total, cached, processed, nanos));
            ObjectNode t = o.putObject("timings");
            double ms = processed > cached ? nanos / 1e6 : 0;
            t.put("cache_n", cached);
            t.put("prompt_n", processed - cached);
            t.put("prompt_ms", ms);
            t.put("prompt_per_token_ms", processed > cached ? ms / (processed - cached) : 0);
            t.put("prompt_per_second", ms > 0 ? (processed - cached) / (ms / 1e3) : 0);
            t.put("predicted_n", 0);
            t.put("predicted_ms", 0.0);
            t.put("predicted_per_token_ms", 0.0);
            t.put("predicted_per_second", 0.0);
            return List.of(o);
        }

        /** The last event (and, with its content, the whole answer when not streamed). */
        ObjectNode finalChunk(Completion c) {
            predicted = c.tokenCount();
            ObjectNode o = base("", true);
            ArrayNode ids = o.putArray("tokens");
            if (returnTokens) {
                for (int t : c.tokens()) {
                    ids.add(t);
                }
            }
            ObjectNode gs = o.putObject("generation_settings");
            org.llamajava.SamplingSettings s = p.sampling();
            gs.put("n_predict", p.maxTokens());
            gs.put("seed", s.seed());
            gs.put("temperature", s.temperature());
            gs.put("top_k", s.topK());
            gs.put("top_p", s.topP());
            gs.put("min_p", s.minP());
            gs.put("repeat_last_n", s.penaltyLastN());
            gs.put("repeat_penalty", s.repeatPenalty());
            gs.put("presence_penalty", s.presencePenalty());
            gs.put("frequency_penalty", s.frequencyPenalty());
            gs.put("adaptive_target", -1.0);
            gs.put("adaptive_decay", 0.9);
            gs.put("n_probs", p.topLogprobs());
            ArrayNode bias = gs.putArray("logit_bias"); // as llama-server: [{"bias", "token"}], -inf as null
            s.logitBias().forEach((token, b) -> {
                ObjectNode e = bias.addObject();
                if (Float.isInfinite(b)) {
                    e.putNull("bias");
                } else {
                    e.put("bias", b);
                }
                e.put("token", token);
            });
            gs.put("stream", p.stream());
            ArrayNode stop = gs.putArray("stop");
            p.stop().forEach(stop::add);
            o.put("prompt", promptText);
            o.put("has_new_line", c.text().contains("\n"));
            // as llama-server: the context shifted, or the reply ended because its slot was full
            o.put("truncated", c.discardedTokens() > 0 || c.finishReason() == org.llamajava.FinishReason.MAX_TOKENS
                    && c.promptTokens() + c.cachedTokens() + c.tokenCount() >= engine.tokensPerSlot());
            o.put("stop_type", switch (c.finishReason()) {
                case END_OF_GENERATION -> "eos";
                case MAX_TOKENS -> "limit";
                case STOP_STRING -> "word";
                default -> "none";
            });
            o.put("stopping_word", "");
            o.put("tokens_cached", c.cachedTokens() + c.tokenCount());
            o.set("timings", OpenAiFormat.timings(c));
            return o;
        }

        @Override
        public ObjectNode usage(List<Completion> done) {
            return null;
        }
    }

    /** The completions' prompt: a string, or token ids, or an array holding one of them. */
    private int[] prompt(JsonBody b) {
        JsonNode v = b.get("prompt");
        if (v == null) {
            throw ApiException.invalid("prompt", "'prompt' is required: a string or an array of token ids");
        }
        if (v.isArray() && v.size() == 1 && (v.get(0).isTextual() || v.get(0).isArray())) {
            v = v.get(0);
        }
        if (v.isTextual()) {
            return vocab.tokenize(v.textValue(), true, true);
        }
        if (v.isArray()) {
            int[] ids = new int[v.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (int) JsonBody.integer("prompt", v.get(i), 0, vocab.size() - 1);
            }
            return ids;
        }
        throw ApiException.invalid("prompt", "'prompt' must be a string, an array of token ids, or an array of one of"
                + " them (one prompt per request), not " + JsonBody.kind(v));
    }

    private int[] checkPrompt(int[] prompt) {
        if (prompt.length == 0) {
            throw ApiException.invalid("prompt", "the prompt has no tokens");
        }
        if (prompt.length > maxPromptTokens) {
            throw ApiException.contextExceeded(prompt.length, engine.tokensPerSlot(), "the prompt has "
                    + prompt.length + " tokens, which exceeds the available context size: this server takes at most "
                    + maxPromptTokens + " (each of its "
                    + engine.params().slots() + " slots holds " + engine.tokensPerSlot() + " tokens of prompt and"
                    + " reply): shorten it, or start the server with a larger context (-c) or fewer slots (-np)");
        }
        return prompt;
    }

    private ObjectNode head(String id, String object, long created) {
        ObjectNode o = OpenAiFormat.F.objectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", server.modelName());
        o.put("system_fingerprint", server.fingerprint());
        return o;
    }

    private ObjectNode chatResponse(String id, long created, Generation g, List<Completion> done, ChatFormat format) {
        ObjectNode o = head(id, "chat.completion", created);
        ArrayNode choices = o.putArray("choices");
        for (int i = 0; i < done.size(); i++) {
            Completion c = done.get(i);
            ChatMessage reply = reply(format, c.text());
            ObjectNode ch = choices.addObject();
            ch.put("index", i);
            ObjectNode m = ch.putObject("message");
            m.put("role", "assistant");
            if (reply.content().isEmpty() && reply.hasToolCalls()) {
                m.putNull("content");
            } else {
                m.put("content", reply.content());
            }
            if (!reply.reasoningContent().isEmpty()) {
                m.put("reasoning_content", reply.reasoningContent());
            }
            if (reply.hasToolCalls()) {
                m.set("tool_calls", toolCalls(reply.toolCalls(), false));
            }
            m.putNull("refusal");
            if (g.params.logprobs()) {
                ch.set("logprobs", OpenAiFormat.chatLogprobs(g.choices.get(i).tokens, vocab, g.params.topLogprobs()));
            } else {
                ch.putNull("logprobs");
            }
            ch.put("finish_reason", finishReason(c, reply));
        }
        o.set("usage", OpenAiFormat.usage(g.prompt.length, done));
        o.set("timings", OpenAiFormat.timings(done.get(0)));
        return o;
    }

    /**
     * The reply parsed with the chat format (null: plain text). A text the format's parser finds
     * nothing in (a reply cut short inside the format's markup, e.g. a JSON object at the token
     * limit) is answered as it was generated, as llama-server answers a partial parse.
     */
    static ChatMessage reply(ChatFormat format, String text) {
        if (format == null) {
            return ChatMessage.assistant(text);
        }
        ChatMessage reply;
        try (ChatParser parser = format.parser()) {
            reply = new ChatReplyStream(parser, null).finish(text);
        }
        if (reply.content().isEmpty() && reply.reasoningContent().isEmpty() && !reply.hasToolCalls() && !text.isEmpty()) {
            return ChatMessage.assistant(text);
        }
        return reply;
    }

    /** "tool_calls" when the reply called tools and ended by itself; else as {@link OpenAiFormat#finishReason}. */
    private static String finishReason(Completion c, ChatMessage reply) {
        String r = OpenAiFormat.finishReason(c.finishReason());
        return reply.hasToolCalls() && r.equals("stop") ? "tool_calls" : r;
    }

    /** OpenAI's {@code tool_calls}: ids given where the model gave none; with {@code index} in a stream's delta. */
    private static ArrayNode toolCalls(List<ToolCall> calls, boolean indexed) {
        ArrayNode a = OpenAiFormat.F.arrayNode();
        for (int k = 0; k < calls.size(); k++) {
            ToolCall call = calls.get(k);
            ObjectNode t = a.addObject();
            if (indexed) {
                t.put("index", k);
            }
            t.put("id", call.id().isEmpty() ? OpenAiFormat.id("call_") : call.id());
            t.put("type", "function");
            ObjectNode f = t.putObject("function");
            f.put("name", call.name());
            f.put("arguments", call.arguments());
        }
        return a;
    }

    private ObjectNode completionResponse(String id, long created, Generation g, List<Completion> done) {
        ObjectNode o = head(id, "text_completion", created);
        ArrayNode choices = o.putArray("choices");
        for (int i = 0; i < done.size(); i++) {
            Completion c = done.get(i);
            ObjectNode ch = choices.addObject();
            ch.put("index", i);
            ch.put("text", c.text());
            if (g.params.logprobs()) {
                ch.set("logprobs", OpenAiFormat.legacyLogprobs(g.choices.get(i).tokens, vocab, g.params.topLogprobs(), 0));
            } else {
                ch.putNull("logprobs");
            }
            ch.put("finish_reason", OpenAiFormat.finishReason(c.finishReason()));
        }
        o.set("usage", OpenAiFormat.usage(g.prompt.length, done));
        o.set("timings", OpenAiFormat.timings(done.get(0)));
        return o;
    }

    /**
     * The chunks of a streamed chat completion. With a chat format, each choice's text is parsed
     * as it comes (content and reasoning deltas; tool calls in the last chunk); without, text is
     * sent as it is.
     */
    private final class ChatChunks implements SseStream.Format, AutoCloseable {
        private final String id;
        private final long created;
        private final int promptTokens;
        private final SamplingParams p;
        private final ChatParser[] parsers;
        private final ChatReplyStream[] replies;
        private final List<List<GeneratedToken>> held = new ArrayList<>();
        private final StringBuilder content = new StringBuilder();
        private final StringBuilder reasoning = new StringBuilder();

        ChatChunks(String id, long created, int promptTokens, SamplingParams p, ChatFormat format) {
            this.id = id;
            this.created = created;
            this.promptTokens = promptTokens;
            this.p = p;
            this.parsers = new ChatParser[p.n()];
            this.replies = new ChatReplyStream[p.n()];
            ChatStreamListener deltas = new ChatStreamListener() {
                @Override
                public void onContent(String delta) {
                    content.append(delta);
                }

                @Override
                public void onReasoning(String delta) {
                    reasoning.append(delta);
                }
            };
            for (int i = 0; i < p.n(); i++) {
                held.add(new ArrayList<>());
                if (format != null) {
                    parsers[i] = format.parser();
                    replies[i] = new ChatReplyStream(parsers[i], deltas);
                }
            }
        }

        private ObjectNode chunk(int choice, ObjectNode delta, List<GeneratedToken> tokens, String finish) {
            ObjectNode o = head(id, "chat.completion.chunk", created);
            ObjectNode ch = o.putArray("choices").addObject();
            ch.put("index", choice);
            ch.set("delta", delta);
            if (p.logprobs() && tokens != null && !tokens.isEmpty()) {
                ch.set("logprobs", OpenAiFormat.chatLogprobs(tokens, vocab, p.topLogprobs()));
            } else {
                ch.putNull("logprobs");
            }
            ch.put("finish_reason", finish);
            return o;
        }

        /** The content and reasoning the parser let out since the last chunk, as a delta (empty if none). */
        private ObjectNode parsedDelta() {
            ObjectNode delta = OpenAiFormat.F.objectNode();
            if (reasoning.length() > 0) {
                delta.put("reasoning_content", reasoning.toString());
                reasoning.setLength(0);
            }
            if (content.length() > 0) {
                delta.put("content", content.toString());
                content.setLength(0);
            }
            return delta;
        }

        @Override
        public List<ObjectNode> progressChunks(int choice, int total, int cached, int processed, long nanos) {
            ObjectNode o = head(id, "chat.completion.chunk", created);
            o.putArray("choices");
            o.set("prompt_progress", progress(total, cached, processed, nanos));
            return List.of(o);
        }

        @Override
        public List<ObjectNode> start(int choice) {
            ObjectNode delta = OpenAiFormat.F.objectNode();
            delta.put("role", "assistant");
            delta.putNull("content"); // as llama-server's first chunk
            return List.of(chunk(choice, delta, null, null));
        }

        @Override
        public ObjectNode text(int choice, String text, List<GeneratedToken> tokens) {
            if (replies[choice] == null) {
                ObjectNode delta = OpenAiFormat.F.objectNode();
                delta.put("content", text);
                return chunk(choice, delta, tokens, null);
            }
            held.get(choice).addAll(tokens);
            replies[choice].push(text);
            ObjectNode delta = parsedDelta();
            if (delta.isEmpty()) {
                return null; // held back: it may still become markup
            }
            List<GeneratedToken> t = new ArrayList<>(held.get(choice));
            held.get(choice).clear();
            return chunk(choice, delta, t, null);
        }

        @Override
        public ObjectNode finish(int choice, Completion c, List<GeneratedToken> tokens) {
            if (replies[choice] == null) {
                return chunk(choice, OpenAiFormat.F.objectNode(), tokens, OpenAiFormat.finishReason(c.finishReason()));
            }
            ChatMessage reply = replies[choice].finish(c.text());
            ObjectNode delta = parsedDelta();
            if (reply.hasToolCalls()) {
                delta.set("tool_calls", toolCalls(reply.toolCalls(), true));
            }
            List<GeneratedToken> t = new ArrayList<>(held.get(choice));
            t.addAll(tokens);
            return chunk(choice, delta, t, finishReason(c, reply));
        }

        @Override
        public ObjectNode usage(List<Completion> done) {
            if (!p.includeUsage()) {
                return null;
            }
            ObjectNode o = head(id, "chat.completion.chunk", created);
            o.putArray("choices");
            o.set("usage", OpenAiFormat.usage(promptTokens, done));
            o.set("timings", OpenAiFormat.timings(done.get(0)));
            return o;
        }

        @Override
        public void close() {
            for (ChatParser parser : parsers) {
                if (parser != null) {
                    parser.close();
                }
            }
        }
    }

    /** The chunks of a streamed legacy completion. */
    private final class CompletionChunks implements SseStream.Format {
        private final String id;
        private final long created;
        private final int promptTokens;
        private final SamplingParams p;
        private final int[] offsets;

        CompletionChunks(String id, long created, int promptTokens, SamplingParams p) {
            this.id = id;
            this.created = created;
            this.promptTokens = promptTokens;
            this.p = p;
            this.offsets = new int[p.n()];
        }

        private ObjectNode chunk(int choice, String text, List<GeneratedToken> tokens, String finish) {
            ObjectNode o = head(id, "text_completion", created);
            ObjectNode ch = o.putArray("choices").addObject();
            ch.put("index", choice);
            ch.put("text", text);
            if (p.logprobs() && tokens != null && !tokens.isEmpty()) {
                ch.set("logprobs", OpenAiFormat.legacyLogprobs(tokens, vocab, p.topLogprobs(), offsets[choice]));
            } else {
                ch.putNull("logprobs");
            }
            offsets[choice] += text.length();
            ch.put("finish_reason", finish);
            return o;
        }

        @Override
        public ObjectNode text(int choice, String text, List<GeneratedToken> tokens) {
            return chunk(choice, text, tokens, null);
        }

        @Override
        public ObjectNode finish(int choice, Completion c, List<GeneratedToken> tokens) {
            return chunk(choice, "", tokens, OpenAiFormat.finishReason(c.finishReason()));
        }

        @Override
        public ObjectNode usage(List<Completion> done) {
            if (!p.includeUsage()) {
                return null;
            }
            ObjectNode o = head(id, "text_completion", created);
            o.putArray("choices");
            o.set("usage", OpenAiFormat.usage(promptTokens, done));
            return o;
        }
    }
}
