package org.llamajava;

import static org.llamajava.bindings.global.llama.llamajava_rpc_available;
import static org.llamajava.bindings.global.llama.llamajava_rpc_start_server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Serves this machine's devices (its CPU, or GPUs) to other llama-java or llama.cpp processes
 * over llama.cpp's RPC protocol ({@code ggml_backend_rpc_start_server}, what llama.cpp's
 * {@code rpc-server} runs), so that a model loaded elsewhere with
 * {@link ModelParams.Builder#rpcServers} keeps some of its layers here.
 *
 * <p><b>RPC is unauthenticated and unencrypted</b>: anyone who can connect can run computations
 * on the served devices and read what they hold. Bind it to {@code 127.0.0.1} (the default) or a
 * trusted private network only, never to a public interface.
 *
 * <p>{@link #serve} blocks its thread for the life of the process: ggml's server has no stop
 * call, so run it in a process of its own (the CLI's {@code rpc-server} command) and end that
 * process to stop serving.
 */
public final class RpcServer {
    private RpcServer() {}

    /** What {@link #serve} serves, and where. */
    public record Params(String host, int port, int threads, List<String> devices, Path cacheDir) {
        /**
         * @param host     the address to bind; 127.0.0.1 unless the network is trusted
         * @param port     the TCP port (llama.cpp's default is 50052)
         * @param threads  CPU threads for the CPU device
         * @param devices  ggml device names to serve (e.g. {@code CPU}, {@code CUDA0}); empty: the
         *                 GPUs, or the CPU when there is none (as llama.cpp's rpc-server chooses)
         * @param cacheDir a directory where the server caches large tensors it received, or null
         */
        public Params {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("host is required, e.g. 127.0.0.1");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535; got " + port);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1; got " + threads);
            }
            devices = devices == null ? List.of() : List.copyOf(devices);
        }

        /** 127.0.0.1:50052, half the cores (at least one), the default devices, no cache. */
        public static Params defaults() {
            return new Params("127.0.0.1", 50052, Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
                    List.of(), null);
        }

        public Params withHost(String v) { return new Params(v, port, threads, devices, cacheDir); }
        public Params withPort(int v) { return new Params(host, v, threads, devices, cacheDir); }
        public Params withThreads(int v) { return new Params(host, port, v, devices, cacheDir); }
        public Params withDevices(List<String> v) { return new Params(host, port, threads, v, cacheDir); }
        public Params withCacheDir(Path v) { return new Params(host, port, threads, devices, v); }
    }

    /**
     * Serves until the process ends. Checks first, with clear errors, that the build has the RPC
     * backend, the devices exist, the cache directory can be made and the address can be bound.
     *
     * @throws LlamaException if it cannot start, or when ggml's server stops
     */
    public static void serve(Params params) {
        Llama.init();
        if (llamajava_rpc_available() == 0) {
            throw new LlamaException("this build of llama-java's natives has no RPC backend (GGML_RPC)");
        }
        List<Device> all = Llama.devices();
        Set<String> known = all.stream().map(Device::name).collect(Collectors.toCollection(java.util.TreeSet::new));
        List<String> devices = params.devices();
        if (devices.isEmpty()) {
            devices = all.stream().filter(Device::isGpu).map(Device::name).toList();
            if (devices.isEmpty()) {
                devices = all.stream().filter(d -> d.type() == Device.Type.CPU).map(Device::name).limit(1).toList();
            }
        }
        for (String d : devices) {
            if (!known.contains(d)) {
                throw new IllegalArgumentException("unknown device '" + d + "'; available: " + String.join(", ", known));
            }
        }
        if (params.cacheDir() != null) {
            try {
                Files.createDirectories(params.cacheDir());
            } catch (IOException e) {
                throw new LlamaException("cannot create the RPC cache directory " + params.cacheDir() + ": " + e.getMessage(), e);
            }
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(params.host(), params.port()));
        } catch (IOException e) {
            throw new LlamaException("cannot listen on " + params.host() + ":" + params.port() + ": " + e.getMessage()
                    + " (is another server using the port?)", e);
        }
        if (!params.host().equals("127.0.0.1") && !params.host().equals("localhost") && !params.host().equals("::1")) {
            System.getLogger(RpcServer.class.getName()).log(System.Logger.Level.WARNING, "the RPC server listens on "
                    + params.host() + ": RPC is unauthenticated, so anyone who can reach this address can use it;"
                    + " keep it on a trusted network");
        }
        String endpoint = (params.host().contains(":") ? "[" + params.host() + "]" : params.host()) + ":" + params.port();
        int rc = llamajava_rpc_start_server(endpoint, params.cacheDir() == null ? null
                : params.cacheDir().toAbsolutePath().toString(), params.threads(), String.join(",", devices));
        throw new LlamaException(switch (rc) {
            case -1 -> "this build has no RPC backend";
            case -2 -> "ggml knows none of the devices " + devices;
            default -> "the RPC server on " + endpoint + " stopped: it could not bind or accept connections";
        });
    }
}
