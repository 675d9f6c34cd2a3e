package org.llamajava;

import static org.llamajava.bindings.global.llama.llamajava_rpc_add_server;
import static org.llamajava.bindings.global.llama.llamajava_rpc_available;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers llama.cpp RPC servers as ggml devices for {@link ModelParams#rpcServers()}, each once
 * per process, after checking that it answers: ggml's RPC client aborts the process when it
 * cannot connect, so no endpoint reaches it unchecked.
 */
final class RpcServers {
    /** How long a connection attempt to an RPC server may take. */
    static final int CONNECT_TIMEOUT_MS = Integer.getInteger("llamajava.rpc.connectTimeoutMs", 5000);

    private static final Map<String, Integer> ADDED = new HashMap<>();

    private RpcServers() {}

    /** Splits {@code host:port} (IPv6 hosts in brackets), or throws a clear error. */
    static InetSocketAddress parseEndpoint(String endpoint) {
        if (endpoint == null || endpoint.isBlank()) {
            throw new IllegalArgumentException("an RPC server is host:port, e.g. 127.0.0.1:50052; got an empty one");
        }
        int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1) {
            throw new IllegalArgumentException("an RPC server is host:port, e.g. 127.0.0.1:50052; got '" + endpoint + "'");
        }
        String host = endpoint.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(endpoint.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the port of RPC server '" + endpoint + "' must be 1..65535");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Checks that a TCP connection to {@code endpoint} opens within the timeout. */
    static void checkReachable(String endpoint, int timeoutMs) {
        InetSocketAddress a = parseEndpoint(endpoint);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(a.getHostString(), a.getPort()), timeoutMs);
        } catch (IOException e) {
            throw new LlamaException("RPC server " + endpoint + " is not reachable within " + timeoutMs + " ms ("
                    + e.getMessage() + "): start it (llama-java rpc-server, or llama.cpp's rpc-server) and check"
                    + " the host, port and firewall");
        }
    }

    /** Registers each server's devices with ggml (once per process), checking reachability first. */
    static synchronized void add(List<String> endpoints) {
        if (endpoints.isEmpty()) {
            return;
        }
        Llama.init();
        if (llamajava_rpc_available() == 0) {
            throw new LlamaException("this build of llama-java's natives has no RPC backend (GGML_RPC)");
        }
        for (String endpoint : endpoints) {
            if (ADDED.containsKey(endpoint)) {
                continue;
            }
            checkReachable(endpoint, CONNECT_TIMEOUT_MS);
            int devices = llamajava_rpc_add_server(endpoint);
            if (devices <= 0) {
                throw new LlamaException("RPC server " + endpoint + " offers no devices, or did not answer ggml's"
                        + " handshake (a different llama.cpp version?)");
            }
            ADDED.put(endpoint, devices);
        }
    }
}
