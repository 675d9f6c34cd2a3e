package org.llamajava.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.llamajava.FinishReason;

/**
 * The one token loop over a scripted decoder: token 0 ends the generation, token i > 0 is the
 * piece {@code PIECES[i]}.
 */
class TokenLoopTest {
    private static final String[] PIECES = {"</s>", "Hel", "lo", " wor", "ld", "!", "\u00e9"};
    private static final FloatBuffer LOGITS = FloatBuffer.wrap(new float[] {0, 1, 2, 3, 4, 5, 6});

    private static BatchDecoder decoder() {
        return (BatchDecoder) Proxy.newProxyInstance(BatchDecoder.class.getClassLoader(), new Class<?>[] {BatchDecoder.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "isEndOfGeneration" -> (int) args[0] == 0;
                    case "piece" -> {
                        byte[] b = PIECES[(int) args[0]].getBytes(StandardCharsets.UTF_8);
                        ((int[]) args[1])[0] = b.length;
                        yield Arrays.copyOf(b, b.length + 4); // a reused buffer is longer than the piece
                    }
                    case "logits" -> LOGITS.duplicate();
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    private static TokenLoop loop(int max, List<String> stop, List<String> text, List<Integer> tokens,
                                  List<FloatBuffer> logits, boolean logprobs, AtomicBoolean cancel) {
        return new TokenLoop(decoder(), 3, max, stop, text::add, (t, l) -> {
            tokens.add(t);
            logits.add(l);
        }, logprobs, cancel::get);
    }

    @Test
    void streamsTextAndEndsOnTheEndOfGenerationToken() {
        List<String> text = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        List<FloatBuffer> logits = new ArrayList<>();
        TokenLoop loop = loop(10, List.of(), text, tokens, logits, false, new AtomicBoolean());
        StringBuilder sink = new StringBuilder();
        for (int t : new int[] {1, 2, 3, 4}) {
            assertFalse(loop.take(t, sink));
        }
        assertTrue(loop.take(0, sink));
        assertEquals(TokenLoop.End.END_OF_GENERATION, loop.end());
        assertEquals("Hello world", loop.text());
        assertEquals("Hello world", sink.toString());
        assertEquals("Hello world", String.join("", text));
        assertArrayEquals(new int[] {1, 2, 3, 4, 0}, loop.tokens());
        assertEquals(List.of(1, 2, 3, 4, 0), tokens);
        assertNull(logits.get(0), "no logits unless log-probabilities are asked for");
    }

    @Test
    void aStopStringIsHeldBackAndNeverEmitted() {
        List<String> text = new ArrayList<>();
        TokenLoop loop = loop(10, List.of("o wo"), text, new ArrayList<>(), new ArrayList<>(), true, new AtomicBoolean());
        assertFalse(loop.take(1, null));
        assertFalse(loop.take(2, null)); // "lo" may start the stop string: "l" is let out, "o" held
        assertEquals("Hell", String.join("", text));
        assertTrue(loop.take(3, null)); // "o wo" appears
        assertEquals(TokenLoop.End.STOP_STRING, loop.end());
        assertEquals("Hell", loop.text());
    }

    @Test
    void theLimitEndsItAndTheHeldTextIsLetOut() {
        List<FloatBuffer> logits = new ArrayList<>();
        TokenLoop loop = loop(2, List.of("lo!"), new ArrayList<>(), new ArrayList<>(), logits, true, new AtomicBoolean());
        assertFalse(loop.take(1, null));
        assertTrue(loop.take(2, null));
        assertEquals(TokenLoop.End.MAX_TOKENS, loop.end());
        assertEquals("Hello", loop.text(), "text held for a possible stop string is let out at the end");
        assertEquals(0, loop.left());
        assertEquals(7, logits.get(0).remaining(), "the listener gets the logits when log-probabilities are asked for");
    }

    @Test
    void aLimitOfZeroEndsBeforeAnyToken() {
        TokenLoop loop = loop(0, List.of(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), false, new AtomicBoolean());
        assertTrue(loop.finished());
        assertEquals(TokenLoop.End.MAX_TOKENS, loop.end());
        assertEquals(0, loop.tokens().length);
    }

    @Test
    void theGrammarsRefusalAndCancellationEndIt() {
        TokenLoop refused = loop(5, List.of(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), false, new AtomicBoolean());
        assertFalse(refused.take(1, null));
        assertTrue(refused.take(-1, null));
        assertEquals(TokenLoop.End.GRAMMAR_REJECTED, refused.end());
        assertArrayEquals(new int[] {1}, refused.tokens());

        AtomicBoolean cancel = new AtomicBoolean();
        TokenLoop cancelled = loop(5, List.of(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), false, cancel);
        assertFalse(cancelled.checkCancelled(null));
        assertFalse(cancelled.take(1, null));
        cancel.set(true);
        assertTrue(cancelled.checkCancelled(null));
        assertEquals(TokenLoop.End.CANCELLED, cancelled.end());
        cancelled.finish(TokenLoop.End.MAX_TOKENS, null);
        assertSame(TokenLoop.End.CANCELLED, cancelled.end(), "finishing again changes nothing");
    }

    @Test
    void aStopStringCompletedByTheLastHeldTextCountsAsOne() {
        // "é" is two UTF-8 bytes; a piece that ends inside a character holds it back
        TokenLoop loop = loop(3, List.of("!"), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), false, new AtomicBoolean());
        assertFalse(loop.take(6, null));
        assertTrue(loop.take(5, null));
        assertEquals(TokenLoop.End.STOP_STRING, loop.end());
        assertEquals("\u00e9", loop.text());
    }

    @Test
    void everyEndIsAFinishReason() {
        for (TokenLoop.End e : TokenLoop.End.values()) {
            assertEquals(e.name(), FinishReason.valueOf(e.name()).name());
        }
        assertEquals(FinishReason.values().length, TokenLoop.End.values().length);
    }
}
