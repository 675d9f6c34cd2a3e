package org.llamajava;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The child JVMs of {@link RpcTest}: {@code server PORT} serves the CPU over RPC on loopback;
 * {@code client MODEL ENDPOINT LAYERS N} loads a model with LAYERS layers on the RPC server and
 * prints its greedy tokens ({@code TOKENS [..]}); {@code slow-client MODEL ENDPOINT N} prints
 * {@code STARTED} after its first token and generates on, so that the test can kill the server
 * under it; {@code rpc-then-local MODEL ENDPOINT N} generates with all layers on the server,
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
                // generates again and again for up to a minute; the test kills the server meanwhile
                try (Model m = Model.load(Path.of(args[1]), ModelParams.builder().rpcServers(args[2]).build());
                     Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
                     Sampler greedy = Sampler.greedy()) {
                    long end = System.nanoTime() + 60_000_000_000L;
                    int[] prompt = m.vocabulary().tokenize(PROMPT);
                    while (System.nanoTime() < end) {
                        ctx.generate(prompt, greedy, 32, null);
                        System.out.println("STARTED");
                        System.out.flush();
                    }
                    System.out.println("FINISHED");
                } catch (RuntimeException e) {
                    System.out.println("EXCEPTION " + e);
                }
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
