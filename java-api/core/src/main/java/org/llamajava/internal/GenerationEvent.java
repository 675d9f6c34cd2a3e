package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR event {@code org.llamajava.Generation}: one request, from its start (for the batching
 * engine: when it took a slot) to its last token. Made only while a recording has it on
 * ({@link Jfr#generation()}). Internal: not API.
 */
@Name("org.llamajava.Generation")
@Label("Generation")
@Category("llama-java")
@Description("One generation: prompt tokens evaluated and reused, tokens generated, time to first token, finish reason")
@StackTrace(false)
public final class GenerationEvent extends jdk.jfr.Event {
    /** Who ran it: {@code sequence} (Sequence.generate and friends) or {@code engine} (BatchEngine). */
    @Label("Runner")
    public String runner;

    /** The sequence (or engine slot) it ran in. */
    @Label("Sequence")
    public int sequence;

    /** Prompt tokens evaluated by this request. */
    @Label("Prompt Tokens")
    public int promptTokens;

    /** Prompt tokens reused from the cache instead of evaluated. */
    @Label("Reused Tokens")
    public int reusedTokens;

    /** Tokens generated. */
    @Label("Generated Tokens")
    public int generatedTokens;

    /** From the start to the first generated token (0 when none was generated). */
    @Label("Time to First Token")
    @Timespan(Timespan.NANOSECONDS)
    public long timeToFirstToken;

    /** Why it ended: an {@code org.llamajava.FinishReason} name, or {@code FAILED}. */
    @Label("Finish Reason")
    public String finishReason;

    /** Tokens drafted by speculative decoding (Sequence only). */
    @Label("Drafted Tokens")
    public int draftedTokens;

    /** Drafted tokens accepted. */
    @Label("Accepted Tokens")
    public int acceptedTokens;
}
