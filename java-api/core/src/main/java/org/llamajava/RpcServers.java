package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.bindings.ggml_backend_dev_props;
import org.llamajava.bindings.ggml_backend_device;
import org.llamajava.bindings.llama_model_params;

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

    /**
     * Registers each server's devices with ggml (once per process), checking reachability first;
     * the handshake runs under an {@link RpcGuard} unless {@code timeout} is zero.
     */
    static synchronized void add(List<String> endpoints, java.time.Duration timeout) {
        if (endpoints.isEmpty()) {
            return;
        }
        Llama.init();
        if (llamajava_rpc_available() == 0) {
            throw new LlamaException("this build of llama-java's natives has no RPC backend (GGML_RPC)");
        }
        if (!timeout.isZero()) {
            RpcGuard.install();
        }
        for (String endpoint : endpoints) {
            RpcGuard.checkNotFailed(endpoint);
            if (ADDED.containsKey(endpoint)) {
                continue;
            }
            checkReachable(endpoint, CONNECT_TIMEOUT_MS);
            int devices = timeout.isZero() ? llamajava_rpc_add_server(endpoint)
                    : RpcGuard.forEndpoint(endpoint, timeout).callInt("connecting to RPC server " + endpoint,
                            () -> llamajava_rpc_add_server(endpoint));
            if (devices <= 0) {
                throw new LlamaException("RPC server " + endpoint + " offers no devices, or did not answer ggml's"
                        + " handshake (a different llama.cpp version?)");
            }
            ADDED.put(endpoint, devices);
        }
    }

    /**
     * The devices one model may use, as a NULL-terminated {@code ggml_backend_dev_t} array for
     * {@code llama_model_params.devices}: the RPC devices of {@code endpoints} first, then the local
     * devices {@link ModelParams#devices()} names, or by default llama.cpp's own selection (the GPUs,
     * one per device id, then integrated GPUs only when there is no GPU; the CPU is never listed,
     * llama.cpp handles it apart) restricted to one backend, the first present of CUDA, Vulkan, then
     * any other (a GPU that CUDA and Vulkan both see is used once). RPC devices stay registered with
     * ggml for the whole process, so without an explicit list every later model would offload to
     * every server ever added, and a server that has gone away would end the process (ggml's RPC
     * client aborts).
     *
     * @throws DeviceUnavailableException where a requested device or backend is not here and
     *     {@code fallback} is false
     */
    static PointerPointer<ggml_backend_device> modelDevices(List<String> endpoints, List<String> requested,
                                                            boolean fallback) {
        List<ggml_backend_device> rpc = new java.util.ArrayList<>();
        List<ggml_backend_device> gpus = new java.util.ArrayList<>();
        List<ggml_backend_device> igpus = new java.util.ArrayList<>();
        List<ggml_backend_device> local = new java.util.ArrayList<>(); // every non-CPU, non-RPC device
        List<String> gpuIds = new java.util.ArrayList<>();
        long n = ggml_backend_dev_count();
        try (ggml_backend_dev_props props = new ggml_backend_dev_props()) {
            for (long i = 0; i < n; i++) {
                ggml_backend_device dev = ggml_backend_dev_get(i);
                int type = ggml_backend_dev_type(dev);
                if (type == GGML_BACKEND_DEVICE_TYPE_GPU) {
                    if (isRpc(dev)) {
                        // an RPC device's description is the endpoint it was added with
                        if (endpoints.contains(utf8(ggml_backend_dev_description(dev)))) {
                            rpc.add(dev);
                        }
                        continue;
                    }
                    local.add(dev);
                    ggml_backend_dev_get_props(dev, props);
                    String id = props.device_id() == null || props.device_id().isNull() ? null : utf8(props.device_id());
                    if (id == null || !gpuIds.contains(id)) {
                        gpus.add(dev);
                        gpuIds.add(id);
                    }
                } else if (type == GGML_BACKEND_DEVICE_TYPE_IGPU) {
                    local.add(dev);
                    if (igpus.isEmpty() || Objects.equals(ggml_backend_dev_backend_reg(dev).address(),
                            ggml_backend_dev_backend_reg(igpus.get(igpus.size() - 1)).address())) {
                        igpus.add(dev);
                    }
                } else if (type != GGML_BACKEND_DEVICE_TYPE_CPU && !isRpc(dev)) {
                    local.add(dev);
                }
            }
        }
        List<ggml_backend_device> all = new java.util.ArrayList<>(rpc);
        if (requested.isEmpty()) {
            all.addAll(preferredBackend(gpus.isEmpty() ? igpus : gpus));
        } else {
            all.addAll(requestedDevices(local, requested, fallback));
        }
        PointerPointer<ggml_backend_device> out = new PointerPointer<>(all.size() + 1);
        for (int i = 0; i < all.size(); i++) {
            out.put(i, all.get(i));
        }
        out.put(all.size(), (Pointer) null);
        return out;
    }

    /** The backends the default device choice prefers, in order; any other GPU backend comes after them. */
    static final List<String> BACKEND_ORDER = List.of("CUDA", "Vulkan");

    /** Of {@code devices}, those of the first backend in {@link #BACKEND_ORDER} that has any (else of the first one's). */
    private static List<ggml_backend_device> preferredBackend(List<ggml_backend_device> devices) {
        if (devices.isEmpty()) {
            return devices;
        }
        String chosen = null;
        for (String b : BACKEND_ORDER) {
            if (devices.stream().anyMatch(d -> b.equalsIgnoreCase(backendName(d)))) {
                chosen = b;
                break;
            }
        }
        String backend = chosen != null ? chosen : backendName(devices.get(0));
        return devices.stream().filter(d -> backend.equalsIgnoreCase(backendName(d))).toList();
    }

    private static List<ggml_backend_device> requestedDevices(List<ggml_backend_device> local, List<String> requested,
                                                              boolean fallback) {
        List<ggml_backend_device> out = new java.util.ArrayList<>();
        for (String r : requested) {
            String want = r.strip();
            if (want.equalsIgnoreCase("none") || want.equalsIgnoreCase("CPU")) {
                continue;
            }
            List<ggml_backend_device> match = local.stream()
                    .filter(d -> want.equalsIgnoreCase(utf8(ggml_backend_dev_name(d)))).toList();
            if (match.isEmpty()) {
                match = local.stream().filter(d -> want.equalsIgnoreCase(backendName(d))).toList();
            }
            if (match.isEmpty()) {
                String message = "no device or backend '" + want + "' on this machine" + whyMissing(want)
                        + "; devices here: " + describe();
                if (!fallback) {
                    throw new DeviceUnavailableException(message + " (ModelParams.deviceFallback(true), the CLI's --device-fallback,"
                            + " runs on the CPU instead)");
                }
                System.getLogger(Model.class.getName()).log(System.Logger.Level.WARNING, message + ": running on the CPU");
                continue;
            }
            for (ggml_backend_device d : match) {
                if (out.stream().noneMatch(o -> o.address() == d.address())) {
                    out.add(d);
                }
            }
        }
        return out;
    }

    /** Why a backend's devices may be missing: its library is in the natives but did not load, or it is not in them. */
    private static String whyMissing(String want) {
        String lower = want.toLowerCase(java.util.Locale.ROOT).replaceAll("[0-9]+$", "");
        boolean listed = org.llamajava.internal.NativeLibrary.listedBackends().stream()
                .anyMatch(b -> b.toLowerCase(java.util.Locale.ROOT).contains("ggml-" + lower));
        boolean loaded = Llama.backendNames().stream().anyMatch(b -> b.equalsIgnoreCase(lower));
        if (listed && !loaded) {
            String why = org.llamajava.internal.NativeLibrary.whyNotLoaded(lower);
            return " (the natives carry the " + want.replaceAll("[0-9]+$", "") + " backend, but it did not load or"
                    + " initialise: " + (why != null ? "its library did not load: " + why
                            : "its driver or runtime is missing, or it found no device") + ")";
        }
        if (loaded) {
            return " (the " + want.replaceAll("[0-9]+$", "") + " backend is loaded but has no such device)";
        }
        return " (no such backend in these natives: " + Llama.backendNames() + ")";
    }

    private static String describe() {
        StringBuilder sb = new StringBuilder();
        for (Device d : Llama.devices()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(d.name()).append(" (").append(d.backend()).append(')');
        }
        return sb.toString();
    }

    private static String backendName(ggml_backend_device dev) {
        return utf8(ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev)));
    }

    /** Points {@code p.devices} at {@code devices}, which must outlive the load call. */
    static void setDevices(llama_model_params p, PointerPointer<ggml_backend_device> devices) {
        int offset = Loader.offsetof(llama_model_params.class, "devices");
        int size = Loader.sizeof(PointerPointer.class);
        if (offset < 0) {
            offset = 0; // llama.h: devices is the first member of llama_model_params
        }
        if (size <= 0 || offset % size != 0) {
            throw new IllegalStateException("unexpected llama_model_params layout");
        }
        new PointerPointer<>(p).put(offset / size, devices);
    }

    private static boolean isRpc(ggml_backend_device dev) {
        return "RPC".equals(utf8(ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev))));
    }

    private static String utf8(org.bytedeco.javacpp.BytePointer p) {
        return p == null || p.isNull() ? null : org.llamajava.internal.NativeStrings.utf8(p);
    }
}
