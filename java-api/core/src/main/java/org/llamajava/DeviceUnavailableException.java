package org.llamajava;

/**
 * A device or backend that {@link ModelParams#devices()} asked for is not on this machine (no such
 * name, its backend or driver is missing, or it failed to initialise), or loading onto it failed, or a
 * context's KV cache for the offloaded layers does not fit the devices' free memory.
 * {@link ModelParams.Builder#deviceFallback(boolean)} runs on the CPU instead (for a KV cache: keeps it in
 * host memory).
 */
public class DeviceUnavailableException extends LlamaException {
    private static final long serialVersionUID = 1L;

    public DeviceUnavailableException(String message) {
        super(message);
    }
}
