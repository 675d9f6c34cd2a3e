package org.llamajava;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The child JVMs of {@link RpcTest}: {@code server PORT} serves the CPU over RPC on loopback;
 * {@code client MODEL ENDPOINT LAYERS N} loads a model with LAYERS layers on the RPC server and
 * prints its greedy tokens ({@code TOKENS [..]}); {@code slow-client MODEL ENDPOINT N} prints
 * {@code STARTED} after its first token and generates on, so that the test can kill the server
 * under it. RPC devices are process-wide once registered, so clients run in their own JVM too.
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
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
