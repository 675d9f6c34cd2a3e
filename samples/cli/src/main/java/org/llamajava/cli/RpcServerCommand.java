package org.llamajava.cli;

import java.nio.file.Path;
import java.util.List;
import org.llamajava.RpcServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rpc-server [-H HOST] [-p PORT] [-t N] [-d DEV[,...]] [-c]}: serves this machine's CPU or
 * GPUs to models loaded elsewhere with {@code --rpc}, with llama.cpp's {@code rpc-server} flags,
 * until the process is ended. RPC is unauthenticated: a non-loopback address gets a warning.
 */
@Command(name = "rpc-server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve this machine's devices over llama.cpp's RPC protocol (for --rpc HOST:PORT elsewhere).",
                "RPC is unauthenticated: keep it on 127.0.0.1 or a trusted network."})
final class RpcServerCommand extends CliCommand {
    @Option(names = {"-H", "--host"}, paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "address to bind (default: 127.0.0.1)")
    String host;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", defaultValue = "50052", description = "port (default: 50052)")
    int port;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "CPU threads (default: half the cores)")
    Integer threads;

    @Option(names = {"-d", "--device"}, paramLabel = "DEV[,...]",
            description = "devices to serve, e.g. CPU or CUDA0 (default: the GPUs, else the CPU)")
    String devices;

    @Option(names = {"-c", "--cache"}, description = "cache large tensors received in a local folder"
            + " (~/.cache/llama-java/rpc, or $LLAMA_CACHE/rpc)")
    boolean cache;

    static boolean isLoopback(String host) {
        return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1") || host.equals("[::1]");
    }

    static String warning(String host) {
        return "WARNING: the RPC server listens on " + host + ". RPC is unauthenticated: anyone who can reach"
                + " this address can run computations and read or write memory on it. Never expose it to an"
                + " untrusted network.";
    }

    @Override
    protected int run() {
        RpcServer.Params p = RpcServer.Params.defaults();
        try {
            p = p.withHost(host).withPort(port);
            if (threads != null) {
                p = p.withThreads(threads);
            }
            if (devices != null && !devices.isBlank()) {
                p = p.withDevices(List.of(devices.split(",")).stream().map(String::trim).filter(s -> !s.isEmpty())
                        .toList());
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (cache) {
            String env = System.getenv("LLAMA_CACHE");
            Path base = env != null && !env.isBlank() ? Path.of(env)
                    : Path.of(System.getProperty("user.home"), ".cache", "llama-java");
            p = p.withCacheDir(base.resolve("rpc"));
        }
        if (!isLoopback(host)) {
            err.println(warning(host));
        }
        err.printf("starting the RPC server on %s:%d (threads %d, devices %s%s)%n", host, port, p.threads(),
                p.devices().isEmpty() ? "default" : String.join(",", p.devices()),
                p.cacheDir() == null ? "" : ", cache " + p.cacheDir());
        err.flush();
        try {
            RpcServer.serve(p);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return 1;
    }
}
