package org.llamajava.internal;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code org.llamajava.PromptCache}: the batching engine saving an idle slot's KV cache
 * to host memory, or restoring one into a slot. Internal: not API.
 */
@Name("org.llamajava.PromptCache")
@Label("Prompt Cache")
@Category("llama-java")
@Description("A slot's KV cache saved to or restored from the engine's host-memory prompt cache")
public final class PromptCacheEvent extends jdk.jfr.Event {
    /** {@code save} or {@code restore}. */
    @Label("Operation")
    public String operation;

    /** The slot. */
    @Label("Slot")
    public int slot;

    /** Tokens the saved cache holds. */
    @Label("Tokens")
    public int tokens;

    /** Bytes of KV state. */
    @Label("Size")
    @DataAmount
    public long size;

    /** Whether it was saved or restored (false: no memory, too large, or the native call failed). */
    @Label("Succeeded")
    public boolean succeeded;
}
