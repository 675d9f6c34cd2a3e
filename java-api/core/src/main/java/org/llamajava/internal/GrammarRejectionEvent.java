package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code org.llamajava.GrammarRejection}: a generation ended because its grammar allowed
 * no token. Internal: not API.
 */
@Name("org.llamajava.GrammarRejection")
@Label("Grammar Rejection")
@Category("llama-java")
@Description("The sampler's grammar allowed no token, so the generation ended (finish reason GRAMMAR_REJECTED)")
public final class GrammarRejectionEvent extends jdk.jfr.Event {
    /** The sequence (or engine slot). */
    @Label("Sequence")
    public int sequence;

    /** Tokens generated before the rejection. */
    @Label("Generated Tokens")
    public int generatedTokens;
}
