package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code org.llamajava.RpcCall}: a native call that may reach RPC servers, run on the
 * RPC guard's worker and waited for (its duration is the wait). Internal: not API.
 */
@Name("org.llamajava.RpcCall")
@Label("RPC Call")
@Category("llama-java")
@Description("A native call of a model on RPC servers (load, context creation, decode, free)")
public final class RpcCallEvent extends jdk.jfr.Event {
    /** What was called, e.g. {@code decoding}. */
    @Label("Operation")
    public String operation;

    /** The servers, comma-separated. */
    @Label("Servers")
    public String servers;

    /** Whether it returned (false: it threw, or its server failed or timed out). */
    @Label("Succeeded")
    public boolean succeeded;
}
