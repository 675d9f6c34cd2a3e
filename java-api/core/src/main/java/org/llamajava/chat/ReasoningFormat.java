package org.llamajava.chat;

/**
 * How the reasoning (chain of thought, e.g. in {@code <think>} blocks) of a reply is separated
 * from its content, as llama.cpp's {@code common_reasoning_format}.
 */
public enum ReasoningFormat {
    /** Reasoning stays in the content, as the model wrote it. */
    NONE("none"),
    /** Reasoning goes into {@link ChatMessage#reasoningContent()} (llama.cpp's default for servers). */
    AUTO("auto"),
    /** Like {@link #AUTO}: thinking tags' contents into the reasoning, also while streaming. */
    DEEPSEEK("deepseek"),
    /** Reasoning extracted, but left inline in {@code <think>} tags while streaming. */
    DEEPSEEK_LEGACY("deepseek-legacy");

    private final String llamaName;

    ReasoningFormat(String llamaName) {
        this.llamaName = llamaName;
    }

    /** The name llama.cpp uses ({@code --reasoning-format}). */
    public String llamaName() {
        return llamaName;
    }

    /** The format of a llama.cpp name. */
    public static ReasoningFormat of(String name) {
        for (ReasoningFormat f : values()) {
            if (f.llamaName.equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown reasoning format '" + name + "'; known: none, auto, deepseek, deepseek-legacy");
    }
}
