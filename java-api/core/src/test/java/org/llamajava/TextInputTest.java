package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.GgufWriter;

/**
 * Awkward text: unpaired UTF-16 surrogates, NUL characters, a 1 MB prompt, and prompts longer than
 * the context.
 *
 * <p>What the API does with them, as these tests pin down:
 * <ul>
 *   <li>An unpaired surrogate cannot be encoded as UTF-8; Java's encoder replaces it with
 *       {@code '?'}, so it tokenizes exactly as {@code '?'} would.
 *   <li>NUL is ordinary text: the length is passed to llama.cpp, so the text does not end there,
 *       and NUL becomes the byte token {@code <0x00>} (detokenized back to NUL). It is rejected
 *       only where a C string is needed: {@link GgufWriter} keys and values.
 *   <li>A prompt that does not fit in the context fails with {@link ContextOverflowException}
 *       before anything is evaluated, and the context stays usable.
 * </ul>
 */
class TextInputTest {

    static final ContextParams PARAMS = ContextParams.builder().contextSize(256).batchSize(64).threads(1).build();

    @TempDir
    static Path tmp;
    static Model model;
    static Vocabulary vocab;
    static String oneMegabyte;

    @BeforeAll
    static void load() {
        model = Model.load(TestSupport.writeTinyModel(tmp));
        vocab = model.vocabulary();
        // English-like text with awkward characters sprinkled in; exactly 2^20 UTF-16 chars
        String[] words = {"Once", "upon", "a", "time", "there", "was", "a", "little", "girl", "named", "Lily.", "The",
            "dog", "and", "the", "cat", "\0", "a\uD800b", "\uDC00", "\uD83D\uDE00", "日本語", "é", "\t", "\n", "<s>"};
        Random r = new Random(42);
        StringBuilder sb = new StringBuilder(1 << 20);
        while (sb.length() < 1 << 20) {
            sb.append(words[r.nextInt(words.length)]).append(' ');
        }
        sb.setLength(1 << 20);
        oneMegabyte = sb.toString();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** What Java's UTF-8 encoder makes of a string: unpaired surrogates become '?'. */
    static String viaUtf8(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    @Test
    void unpairedSurrogatesTokenizeAsQuestionMarks() {
        String[] cases = {"a\uD800b", "\uDC00", "end\uD83D", "\uDE00\uD83D", "x\uD800\uD800y", "\uD83D\uDE00\uD83D"};
        String[] asQuestionMarks = {"a?b", "?", "end?", "??", "x??y", "\uD83D\uDE00?"};
        for (int i = 0; i < cases.length; i++) {
            assertEquals(asQuestionMarks[i], viaUtf8(cases[i]));
            int[] tokens = vocab.tokenize(cases[i], false, false);
            assertArrayEquals(vocab.tokenize(asQuestionMarks[i], false, false), tokens, asQuestionMarks[i]);
            assertValid(tokens);
            assertEquals(asQuestionMarks[i], vocab.detokenize(tokens, false, false));
        }
        // a proper pair is one code point: four byte tokens, back to the same emoji
        int[] emoji = vocab.tokenize("\uD83D\uDE00", false, false);
        assertEquals("\uD83D\uDE00", vocab.detokenize(emoji, false, false));
        assertTrue(Arrays.stream(emoji).filter(t -> vocab.tokenText(t).startsWith("<0x")).count() == 4,
                Arrays.toString(emoji));
    }

    @Test
    void nulIsTokenizedAsTheZeroByteToken() {
        int zero = -1;
        for (int t = 0; t < vocab.size(); t++) {
            if (vocab.tokenText(t).equals("<0x00>")) {
                zero = t;
            }
        }
        assertTrue(zero >= 0);
        for (String s : new String[] {"a\0b", "\0", "\0\0\0", "Once\0upon a time\0", "\0<s>\0"}) {
            int[] tokens = vocab.tokenize(s, false, false);
            int z = zero;
            long count = s.chars().filter(c -> c == 0).count();
            assertEquals(count, Arrays.stream(tokens).filter(t -> t == z).count(), "one <0x00> per NUL in " + Arrays.toString(tokens));
            assertEquals(s, vocab.detokenize(tokens, false, false), "the text does not end at the NUL");
        }
        // what follows a NUL is still tokenized: "a\0b" is not "a"
        assertTrue(vocab.tokenize("a\0b").length > vocab.tokenize("a").length);
        // generation from a prompt with NULs works like any other
        try (Context ctx = model.createContext(PARAMS); Sampler s = Sampler.greedy()) {
            assertEquals(8, ctx.generate(vocab.tokenize("Once\0upon"), s, 8, null).tokens().length);
        }
        // where native code needs a C string, NUL is refused instead of silently cutting the text
        try (GgufWriter w = new GgufWriter()) {
            assertThrows(IllegalArgumentException.class, () -> w.putString("general.name", "a\0b"));
            assertThrows(IllegalArgumentException.class, () -> w.putString("general.na\0me", "x"));
        }
    }

    @Test
    void oneMegabytePromptTokenizes() {
        long t0 = System.nanoTime();
        int[] tokens = vocab.tokenize(oneMegabyte, false, false);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertValid(tokens);
        assertTrue(tokens.length > 250_000, tokens.length + " tokens");
        assertEquals(viaUtf8(oneMegabyte), vocab.detokenize(tokens, false, false), "round trip");
        assertTrue(ms < 20_000, "tokenizing 1 MB took " + ms + " ms");
        // with BOS and special-token parsing (the text holds "<s>")
        int[] withSpecial = vocab.tokenize(oneMegabyte);
        assertEquals(vocab.bos(), withSpecial[0]);
        assertValid(withSpecial);
    }

    @Test
    void promptLongerThanTheContextFailsBeforeEvaluatingAnything() {
        try (Context ctx = model.createContext(PARAMS); Sampler s = Sampler.greedy()) {
            int n = ctx.contextSize();
            int[] tooLong = Arrays.copyOf(vocab.tokenize(oneMegabyte.substring(0, 20_000), true, false), n + 1);
            assertValid(tooLong);
            AtomicInteger callbacks = new AtomicInteger();
            GenerateOptions opts = GenerateOptions.builder().maxTokens(8).onToken(t -> callbacks.incrementAndGet())
                    .onText(t -> callbacks.incrementAndGet()).build();

            assertRefusedUpFront(() -> ctx.decode(tooLong), ctx);
            ContextOverflowException e = assertRefusedUpFront(() -> ctx.generate(tooLong, s, 8, null), ctx);
            assertNull(e.partial(), "nothing was generated");
            Sequence seq = ctx.defaultSequence();
            assertRefusedUpFront(() -> seq.prompt(tooLong), ctx);
            assertRefusedUpFront(() -> seq.generate(tooLong, s, opts), ctx);
            assertEquals(0, callbacks.get(), "no token was sampled");

            // exactly full fits; one more token does not, and is refused before evaluation too
            int[] exact = Arrays.copyOf(tooLong, n);
            ctx.decode(exact);
            assertEquals(n, ctx.position());
            ContextOverflowException full = assertThrows(ContextOverflowException.class, () -> ctx.decode(new int[] {5}));
            assertTrue(full.getMessage().contains("do not fit"), full.getMessage());
            assertEquals(n, ctx.position());

            // the context is fine afterwards: the same output as a fresh one
            ctx.clear();
            int[] prompt = vocab.tokenize("Once upon a time");
            int[] after = ctx.generate(prompt, s, 8, null).tokens();
            try (Context fresh = model.createContext(PARAMS); Sampler s2 = Sampler.greedy()) {
                assertArrayEquals(fresh.generate(prompt, s2, 8, null).tokens(), after);
            }
        }
    }

    @Test
    void oneMegabytePromptToASmallContextOverflows() {
        int[] tokens = vocab.tokenize(oneMegabyte);
        List<ContextParams> params = List.of(PARAMS,
                ContextParams.builder().contextSize(256).batchSize(64).threads(1).overflow(OverflowPolicy.shift(4)).build(),
                ContextParams.builder().contextSize(512).batchSize(512).sequences(2).threads(1).build());
        for (ContextParams p : params) {
            try (Context ctx = model.createContext(p); Sampler s = Sampler.greedy()) {
                long t0 = System.nanoTime();
                List<Runnable> calls = new ArrayList<>(List.of(() -> ctx.generate(tokens, s, 8, null),
                        () -> ctx.decode(tokens)));
                Sequence other = p.sequences() > 1 ? ctx.newSequence() : null;
                if (other != null) {
                    calls.add(() -> other.prompt(tokens));
                    calls.add(() -> other.append(tokens));
                }
                for (Runnable call : calls) {
                    assertRefusedUpFront(call::run, ctx);
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 5_000, "refusing took " + ms + " ms: was something evaluated?");
                assertEquals(0, ctx.tokensHeld());
                assertEquals(8, ctx.generate(vocab.tokenize("Once"), s, 8, null).tokens().length);
            }
        }
    }

    private static ContextOverflowException assertRefusedUpFront(
            org.junit.jupiter.api.function.Executable call, Context ctx) {
        ContextOverflowException e = assertThrows(ContextOverflowException.class, call);
        // "do not fit" is the check made before decoding; llama.cpp's own failure reads differently
        assertTrue(e.getMessage().contains("do not fit"), e.getMessage());
        assertEquals(0, ctx.position(), "nothing was evaluated");
        assertEquals(0, ctx.tokensHeld());
        return e;
    }

    private static void assertValid(int[] tokens) {
        for (int t : tokens) {
            assertTrue(t >= 0 && t < vocab.size(), "token " + t);
        }
    }
}
