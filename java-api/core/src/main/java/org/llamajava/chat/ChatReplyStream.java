package org.llamajava.chat;

import org.llamajava.LlamaException;

/**
 * Turns a reply's text, pushed piece by piece as it is generated, into content and reasoning
 * deltas for a {@link ChatStreamListener}, re-parsing the text so far with a {@link ChatParser}
 * (llama.cpp's partial parsing holds back what may still turn out to be markup); at the end,
 * parses the whole reply into a {@link ChatMessage}. Output that does not match the format is
 * kept as plain content. Single-threaded; the caller closes the parser.
 */
public final class ChatReplyStream {
    private final ChatParser parser;
    private final ChatStreamListener listener;
    private final StringBuilder text = new StringBuilder();
    private String content = "";
    private String reasoning = "";

    /**
     * @param parser   the reply format's parser ({@link ChatFormat#parser()})
     * @param listener receives the deltas; may be null (then only {@link #finish} parses)
     */
    public ChatReplyStream(ChatParser parser, ChatStreamListener listener) {
        if (parser == null) {
            throw new IllegalArgumentException("parser is null");
        }
        this.parser = parser;
        this.listener = listener;
    }

    /** Adds generated text; the listener gets what it makes new of the content and reasoning. */
    public void push(String piece) {
        text.append(piece);
        if (listener == null) {
            return;
        }
        ChatMessage m;
        try {
            m = parser.parse(text.toString(), true);
        } catch (LlamaException e) {
            return; // not parseable yet; the final parse decides
        }
        deltas(m);
    }

    private void deltas(ChatMessage m) {
        if (m.reasoningContent().startsWith(reasoning) && m.reasoningContent().length() > reasoning.length()) {
            listener.onReasoning(m.reasoningContent().substring(reasoning.length()));
            reasoning = m.reasoningContent();
        }
        if (m.content().startsWith(content) && m.content().length() > content.length()) {
            listener.onContent(m.content().substring(content.length()));
            content = m.content();
        }
    }

    /**
     * Parses the complete reply (the last deltas go to the listener; tool calls do not: the
     * caller hands them on, e.g. after giving them ids).
     *
     * @param all the whole reply's text
     */
    public ChatMessage finish(String all) {
        ChatMessage m;
        try {
            m = parser.parse(all, false);
        } catch (LlamaException e) {
            m = ChatMessage.assistant(all);
        }
        if (listener != null) {
            deltas(m);
        }
        return m;
    }
}
