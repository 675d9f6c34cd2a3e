package org.llamajava.chat;

/**
 * Receives a reply as it is generated, already parsed: content and reasoning as separate deltas
 * (llama.cpp's partial parsing holds back text that may still turn out to be markup, such as the
 * start of a tool call), and each tool call once complete, when the reply ends.
 */
public interface ChatStreamListener {
    /** More of the reply's content. */
    default void onContent(String delta) {}

    /** More of the reply's reasoning. */
    default void onReasoning(String delta) {}

    /** A complete tool call. */
    default void onToolCall(ToolCall call) {}
}
