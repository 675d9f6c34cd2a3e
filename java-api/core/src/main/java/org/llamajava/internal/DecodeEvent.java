package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code org.llamajava.Decode}: one {@code llama_decode} call (its duration is the
 * call's). Made only while a recording has it on ({@link Jfr#decode()}). Internal: not API.
 */
@Name("org.llamajava.Decode")
@Label("Decode")
@Category("llama-java")
@Description("One llama_decode call: the batch's tokens and sequences")
@StackTrace(false)
public final class DecodeEvent extends jdk.jfr.Event {
    /** Tokens in the batch. */
    @Label("Tokens")
    public int tokens;

    /** Distinct sequences in the batch. */
    @Label("Sequences")
    public int sequences;

    /** Rows whose logits were kept (tokens sampled from this batch). */
    @Label("Outputs")
    public int outputs;

    /** llama_decode's result: 0 success, 1 no KV room, 2 aborted, else a failure. */
    @Label("Result")
    public int result;
}
