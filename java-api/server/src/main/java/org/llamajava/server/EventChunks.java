package org.llamajava.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.GeneratedToken;
import org.llamajava.chat.ChatFormat;
import org.llamajava.chat.ChatParser;
import org.llamajava.chat.ChatReplyStream;
import org.llamajava.chat.ChatStreamListener;

/**
 * A stream of named events (Anthropic's Messages, OpenAI's Responses): each event's
 * {@code type} is its SSE event name, a piece of text or the end may give several events, and
 * the reply is parsed as it comes with the chat format (content and reasoning deltas gathered
 * in {@link #content} and {@link #reasoning}; tool calls at the end). One choice.
 */
abstract class EventChunks implements SseStream.Format, AutoCloseable {
    private final ChatParser parser;
    /** The reply's parser stream, or null for plain text. */
    final ChatReplyStream reply;
    /** Content the parser let out since it was last taken. */
    final StringBuilder content = new StringBuilder();
    /** Reasoning the parser let out since it was last taken. */
    final StringBuilder reasoning = new StringBuilder();

    EventChunks(ChatFormat format) {
        this.parser = format == null ? null : format.parser();
        this.reply = parser == null ? null : new ChatReplyStream(parser, new ChatStreamListener() {
            @Override
            public void onContent(String delta) {
                content.append(delta);
            }

            @Override
            public void onReasoning(String delta) {
                reasoning.append(delta);
            }
        });
    }

    /** What {@code sb} holds, emptied. */
    static String take(StringBuilder sb) {
        String s = sb.toString();
        sb.setLength(0);
        return s;
    }

    @Override
    public abstract List<ObjectNode> textChunks(int choice, String text, List<GeneratedToken> tokens);

    @Override
    public abstract List<ObjectNode> finishChunks(int choice, Completion completion, List<GeneratedToken> tokens);

    @Override
    public final ObjectNode text(int choice, String text, List<GeneratedToken> tokens) {
        throw new UnsupportedOperationException("named-event streams send textChunks");
    }

    @Override
    public final ObjectNode finish(int choice, Completion completion, List<GeneratedToken> tokens) {
        throw new UnsupportedOperationException("named-event streams send finishChunks");
    }

    @Override
    public final ObjectNode usage(List<Completion> done) {
        return null; // in the last events
    }

    @Override
    public final String event(ObjectNode chunk) {
        return chunk.path("type").asText();
    }

    @Override
    public void close() {
        if (parser != null) {
            parser.close();
        }
    }
}
