package org.llamajava;

import java.util.List;

/**
 * An RPC server of a model ({@link ModelParams#rpcServers()}) died, stopped answering properly or
 * did not answer within {@link ModelParams#rpcTimeout()}. The model and its contexts cannot be
 * used any more (every later call throws this again) and their native memory stays allocated;
 * the JVM keeps running. ggml's RPC client does not reconnect within a process, so using the
 * server again takes a new JVM.
 */
public class RpcServerException extends LlamaException {
    private static final long serialVersionUID = 1L;

    private final List<String> servers;

    public RpcServerException(String message, List<String> servers) {
        super(message);
        this.servers = List.copyOf(servers);
    }

    private RpcServerException(RpcServerException first) {
        super(first.getMessage(), first);
        this.servers = first.servers;
    }

    /** The servers ({@code host:port}) that failed. */
    public List<String> servers() {
        return servers;
    }

    /** The same failure, thrown again by a later call (with that call's stack, caused by the first). */
    RpcServerException again() {
        return new RpcServerException(this);
    }
}
