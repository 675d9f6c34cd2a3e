package org.llamajava.chat;

import org.llamajava.Completion;

/**
 * An assistant reply of a {@link ChatSession} turn: the parsed message (content, reasoning, tool
 * calls) and the generation it came from.
 *
 * @param message    the reply as added to the history
 * @param completion the raw generation (text as generated, tokens, reuse figures, timings)
 */
public record ChatReply(ChatMessage message, Completion completion) {
    /** Whether the model called tools: answer them with {@link ChatSession#addToolResult} and respond again. */
    public boolean hasToolCalls() {
        return message.hasToolCalls();
    }
}
