package org.llamajava.chat;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.llamajava.LlamaException;
import org.llamajava.internal.Json;
import org.llamajava.internal.NativeState;
import org.llamajava.internal.NativeStrings;

/**
 * Parses a model's output in a chat format into content, reasoning and tool calls, through
 * llama.cpp's {@code common_chat_parse}; made by {@link ChatFormat#parser()}. Holds native
 * memory: close it (a Cleaner frees it otherwise).
 */
public final class ChatParser implements AutoCloseable {
    private final State state;
    private final Cleaner.Cleanable cleanable;

    ChatParser(String paramsJson) {
        Pointer p;
        try (BytePointer params = new BytePointer(paramsJson, StandardCharsets.UTF_8);
             PointerPointer<BytePointer> error = new PointerPointer<>(1)) {
            error.put(0, null);
            p = llamajava_chat_parser_new(params, error);
            if (p == null || p.isNull()) {
                throw new LlamaException("llama.cpp could not make the chat parser: " + NativeStrings.takeError(error));
            }
        }
        this.state = new State(p);
        this.cleanable = state.register(this);
    }

    /**
     * Parses text the model generated.
     *
     * @param partial true while more may follow (streaming): incomplete calls and tags are held
     *                back instead of failing
     * @throws LlamaException if complete text does not match the format (e.g. a malformed tool call)
     */
    public ChatMessage parse(String text, boolean partial) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        synchronized (state) {
            if (state.isFreed()) {
                throw new IllegalStateException("ChatParser is closed");
            }
            try (BytePointer t = new BytePointer(text.replace("\0", ""), StandardCharsets.UTF_8)) {
                String json = NativeStrings.shim(error -> llamajava_chat_parser_parse(state.parser, t, partial, error),
                        why -> new LlamaException("llama.cpp could not parse the reply: " + why));
                return ChatMessage.fromParsed(Json.parse(json, "the parsed reply"));
            }
        }
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    private static final class State extends NativeState {
        final Pointer parser;

        State(Pointer parser) {
            this.parser = parser;
        }

        @Override
        protected void free() {
            llamajava_chat_parser_free(parser);
        }
    }
}
