package org.llamajava.cli;

import java.util.ArrayList;
import java.util.List;
import org.llamajava.ModelParams;
import picocli.CommandLine.Option;

/**
 * {@code --rpc HOST:PORT[,...]}: llama.cpp RPC servers whose devices take layers of the model, as
 * llama.cpp's tools take them. Environment default {@code LLAMA_ARG_RPC}.
 */
final class RpcOption {
    @Option(names = "--rpc", paramLabel = "HOST:PORT[,...]", defaultValue = "${env:LLAMA_ARG_RPC}",
            description = "comma-separated RPC servers (llama-java rpc-server or llama.cpp's rpc-server) whose"
                    + " devices take layers; unauthenticated, trusted networks only (env: LLAMA_ARG_RPC)")
    String rpc;

    /** The servers, checked for the host:port form. */
    List<String> servers() {
        List<String> out = new ArrayList<>();
        if (rpc == null || rpc.isBlank()) {
            return out;
        }
        for (String s : rpc.split(",")) {
            String server = s.trim();
            try {
                ModelParams.builder().rpcServers(server).build();
            } catch (IllegalArgumentException e) {
                throw new UsageException("--rpc: " + e.getMessage());
            }
            out.add(server);
        }
        return out;
    }

    /** Adds the servers to {@code b}. */
    ModelParams.Builder apply(ModelParams.Builder b) {
        List<String> servers = servers();
        return servers.isEmpty() ? b : b.rpcServers(servers);
    }
}
