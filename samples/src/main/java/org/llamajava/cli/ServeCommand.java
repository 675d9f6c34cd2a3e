package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.server.LlamaServer;
import org.llamajava.server.ServerConfig;
import org.llamajava.server.ServerMode;

/**
 * {@code serve -m MODEL}: the OpenAI-compatible server ({@link LlamaServer}) with llama-server's
 * flag names. Prints one line, {@code llama-java server listening on http://HOST:PORT ...}, to
 * stdout once it serves (with {@code --port 0}, the port chosen), and runs until SIGTERM or
 * Ctrl-C, which drain running requests (for {@code --drain-timeout} seconds) before stopping.
 */
final class ServeCommand implements Command {
    /** Jetty's and Javalin's start-up chatter stays out of stderr; their warnings and errors do not (held: JUL keeps loggers weakly). */
    private static final List<java.util.logging.Logger> QUIET = List.of(java.util.logging.Logger.getLogger("org.eclipse.jetty"),
            java.util.logging.Logger.getLogger("io.javalin"));

    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        QUIET.forEach(l -> l.setLevel(java.util.logging.Level.WARNING));
        args.parse(new String[][] {{"-m", "--model"}, {"--host"}, {"--port"}, {"-np", "--parallel"},
                {"-c", "--ctx-size"}, {"-b", "--batch-size"}, {"-t", "--threads"},
                {"-ngl", "--n-gpu-layers", "--gpu-layers"}, {"--api-key"}, {"--chat-template"},
                {"--chat-template-file"}, {"-a", "--alias"}, {"-n", "--n-predict"}, {"--max-queue"},
                {"--cors-origin"}, {"--drain-timeout"}, {"--threads-http"}, {"--mmproj"}},
                "--embeddings", "--embedding", "--reranking", "--rerank", "--no-mmproj-offload");
        Path modelPath = Path.of(args.require("-m", "MODEL"));
        boolean embeddings = args.has("--embeddings") || args.has("--embedding");
        boolean rerank = args.has("--reranking") || args.has("--rerank");
        if (embeddings && rerank) {
            throw new Args.UsageException("--embeddings and --reranking exclude each other: a server serves one of them");
        }
        if (args.get("--chat-template") != null && args.get("--chat-template-file") != null) {
            throw new Args.UsageException("give --chat-template NAME or --chat-template-file FILE, not both");
        }
        ServerConfig.Builder cfg = ServerConfig.builder()
                .host(args.get("--host") == null ? "127.0.0.1" : args.get("--host"))
                .port(args.getInt("--port", 8080))
                .mode(rerank ? ServerMode.RERANK : embeddings ? ServerMode.EMBEDDING : ServerMode.COMPLETION)
                .slots(args.getInt("-np", 4)).contextSize(args.getInt("-c", 4096)).batchSize(args.getInt("-b", 512))
                .maxQueue(args.getInt("--max-queue", 64)).maxTokens(args.getInt("-n", 0))
                .drainTimeout(java.time.Duration.ofSeconds(args.getInt("--drain-timeout", 30)))
                .maxThreads(args.getInt("--threads-http", 0)).modelName(args.get("-a"))
                .apiKey(args.get("--api-key"));
        if (args.get("-t") != null) {
            cfg.threads(args.getInt("-t", 1));
        }
        if (args.get("--cors-origin") != null) {
            cfg.corsOrigins(List.copyOf(Arrays.asList(args.get("--cors-origin").split(","))));
        }
        ModelParams mp = ModelParams.builder().gpuLayers(args.getInt("-ngl", ModelParams.ALL_LAYERS)).build();
        Model model = Model.load(modelPath, mp);
        LlamaServer server;
        try {
            String template = args.get("--chat-template-file") != null ? args.get("--chat-template-file")
                    : args.get("--chat-template");
            if (template != null) {
                cfg.chatTemplate(ChatTemplate.resolve(model, template));
            }
            // --mmproj: images in chat requests (data: URLs); the projector closes with the model
            server = LlamaServer.start(model, cfg.build(), Multimodal.load(args, model));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err.println("stopping: draining running requests");
            server.close();
            model.close();
            err.println("stopped");
        }, "llama-java-serve-shutdown"));
        ServerConfig c = server.config();
        out.println("llama-java server listening on " + server.baseUrl() + " (model " + server.modelName() + ", "
                + (c.mode() == ServerMode.COMPLETION ? c.slots() + " slots of " + (c.contextSize() / c.slots())
                        + " tokens" : c.mode().name().toLowerCase(java.util.Locale.ROOT))
                + (c.apiKey() == null ? ", no API key" : ", API key required") + ")");
        out.flush();
        if (!c.host().equals("127.0.0.1") && !c.host().equals("localhost") && !c.host().equals("::1")
                && c.apiKey() == null) {
            err.println("warning: listening on " + c.host() + " without --api-key: anyone who reaches this machine"
                    + " can use the model");
        }
        try {
            server.awaitClosed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    @Override
    public String usage() {
        return "-m MODEL [--host 127.0.0.1] [--port 8080] [-np N] [-c CTX] [-b N] [-t N] [-ngl N] [--api-key KEY]"
                + " [--chat-template NAME | --chat-template-file FILE] [--mmproj FILE] [-a ALIAS] [-n MAX_TOKENS] [--max-queue N]"
                + " [--cors-origin ORIGIN,...] [--drain-timeout SECONDS] [--embeddings | --reranking]";
    }
}
