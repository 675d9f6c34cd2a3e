package org.llamajava;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The child JVMs of {@link RpcTest}: {@code server PORT} serves the CPU over RPC on loopback;
 * {@code client MODEL ENDPOINT LAYERS N} loads a model with LAYERS layers on the RPC server and
 * prints its greedy tokens ({@code TOKENS [..]}); {@code slow-client MODEL ENDPOINT [TIMEOUT_MS]}
 * prints {@code STARTED} after each generation and generates on, so that the test can kill or
 * stop the server under it, then prints what the failure and the calls after it did ({@code
 * EXCEPTION ...}, {@code SECOND CALL ...}, {@code RELOAD ...}, {@code CLOSED}, {@code ALIVE [..]}); {@code rpc-then-local MODEL ENDPOINT N} generates with all layers on the server,
 * closes that model, prints {@code WAITING}, and after a line on stdin (the test has killed the
 * server by then) loads the model again without RPC servers and prints {@code LOCAL [..]}. RPC
 * devices are process-wide once registered, so clients run in their own JVM too.
 */
public final class RpcChild {
    static final String PROMPT = "Once upon a time";

    private RpcChild() {}

    public static void main(String[] args) {
        switch (args[0]) {
            case "server" -> RpcServer.serve(RpcServer.Params.defaults().withPort(Integer.parseInt(args[1])).withThreads(1)
                    .withDevices(List.of("CPU")));
            case "client" -> {
                int layers = Integer.parseInt(args[3]);
                try (Model m = Model.load(Path.of(args[1]), ModelParams.builder().rpcServers(args[2]).gpuLayers(layers)
                        .build());
                     Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
                     Sampler greedy = Sampler.greedy()) {
                    Completion c = ctx.generate(m.vocabulary().tokenize(PROMPT), greedy, Integer.parseInt(args[4]), null);
                    System.out.println("DEVICES " + Llama.devices().stream().map(Device::name).toList());
                    System.out.println("TOKENS " + Arrays.toString(c.tokens()));
                }
            }
            case "slow-client" -> {
                // generates again and again for up to a minute; the test kills (or stops) the server
                // meanwhile. Then: the failure's exception, a later call failing at once, closing
                // without a hang, and a local model generating in this same JVM.
                ModelParams.Builder params = ModelParams.builder().rpcServers(args[2]);
                if (args.length > 3) {
                    params.rpcTimeout(java.time.Duration.ofMillis(Long.parseLong(args[3])));
                }
                Model m = Model.load(Path.of(args[1]), params.build());
                Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
                int[] prompt = m.vocabulary().tokenize(PROMPT);
                try (Sampler greedy = Sampler.greedy()) {
                    long end = System.nanoTime() + 60_000_000_000L;
                    while (System.nanoTime() < end) {
                        try (Sequence s = ctx.newSequence()) { // a fresh one each time: the context never fills
                            s.generate(prompt, greedy, GenerateOptions.maxTokens(32));
                        }
                        System.out.println("STARTED");
                        System.out.flush();
                    }
                    System.out.println("FINISHED");
                } catch (RpcServerException e) {
                    System.out.println("EXCEPTION " + e.getClass().getSimpleName() + " servers=" + e.servers() + ": "
                            + e.getMessage());
                }
                try (Sampler greedy = Sampler.greedy()) {
                    ctx.generate(prompt, greedy, 4, null);
                    System.out.println("SECOND CALL WORKED");
                } catch (RpcServerException e) {
                    System.out.println("SECOND CALL " + e.getClass().getSimpleName());
                }
                try {
                    Model.load(Path.of(args[1]), params.build()).close();
                    System.out.println("RELOAD WORKED");
                } catch (RpcServerException e) {
                    System.out.println("RELOAD " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                System.out.println("DEVICES AFTER " + Llama.devices().stream()
                        .map(d -> d.name() + "=" + d.memoryTotal()).toList());
                ctx.close();
                m.close();
                System.out.println("CLOSED");
                try (Model local = Model.load(Path.of(args[1]));
                     Context c2 = local.createContext(ContextParams.builder().contextSize(256).build());
                     Sampler greedy = Sampler.greedy()) {
                    System.out.println("ALIVE " + Arrays.toString(c2.generate(prompt, greedy, 4, null).tokens()));
                }
                System.out.flush();
            }
            case "rpc-then-local" -> {
                int n = Integer.parseInt(args[3]);
                try (Model m = Model.load(Path.of(args[1]), ModelParams.builder().rpcServers(args[2]).build());
                     Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
                     Sampler greedy = Sampler.greedy()) {
                    System.out.println("RPC " + Arrays.toString(ctx.generate(m.vocabulary().tokenize(PROMPT), greedy, n,
                            null).tokens()));
                }
                System.out.println("WAITING");
                System.out.flush();
                try {
                    new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                // the server is gone; this model must not touch its (still registered) device
                try (Model m = Model.load(Path.of(args[1]));
                     Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
                     Sampler greedy = Sampler.greedy()) {
                    System.out.println("LOCAL " + Arrays.toString(ctx.generate(m.vocabulary().tokenize(PROMPT), greedy, n,
                            null).tokens()));
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
