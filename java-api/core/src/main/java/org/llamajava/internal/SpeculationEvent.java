package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code org.llamajava.Speculation}: one speculative step, a draft verified by one
 * decode (its duration is the step's). Internal: not API.
 */
@Name("org.llamajava.Speculation")
@Label("Speculation")
@Category("llama-java")
@Description("One speculative decoding step: tokens drafted and accepted")
@StackTrace(false)
public final class SpeculationEvent extends jdk.jfr.Event {
    /** The sequence. */
    @Label("Sequence")
    public int sequence;

    /** Tokens drafted. */
    @Label("Drafted")
    public int drafted;

    /** Drafted tokens the target model agreed with. */
    @Label("Accepted")
    public int accepted;
}
