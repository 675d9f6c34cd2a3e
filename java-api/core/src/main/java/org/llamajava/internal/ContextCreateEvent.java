package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** JFR event {@code org.llamajava.ContextCreate}: a context created over a model. Internal: not API. */
@Name("org.llamajava.ContextCreate")
@Label("Context Create")
@Category("llama-java")
@Description("A llama.cpp context (KV cache and compute buffers) created by Model.createContext")
public final class ContextCreateEvent extends jdk.jfr.Event {
    /** Tokens the context holds (n_ctx). */
    @Label("Context Size")
    public int contextSize;

    /** Most tokens per decode (n_batch). */
    @Label("Batch Size")
    public int batchSize;

    /** Physical batch (n_ubatch). */
    @Label("Micro-batch Size")
    public int ubatchSize;

    /** Sequences (n_seq_max). */
    @Label("Sequences")
    public int sequences;

    /** CPU threads. */
    @Label("Threads")
    public int threads;

    /** The KV cache's key and value types. */
    @Label("KV Types")
    public String kvTypes;

    /** Whether the context was created. */
    @Label("Succeeded")
    public boolean succeeded;
}
