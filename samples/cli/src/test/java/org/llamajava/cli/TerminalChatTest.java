package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatTemplate;

/**
 * The terminal chat ({@link TerminalChat}) on JLine's own terminal over pipes (an xterm
 * {@code ExternalTerminal}: the keys typed go through its line discipline and key bindings as on a
 * real terminal), over a tiny random-weight model: multi-line input (a trailing backslash and
 * Alt-Enter), wide characters and emoji typed, history recall with Up, Ctrl-C stopping a reply that
 * would otherwise run for tens of thousands of tokens and the next prompt working, Ctrl-C at an empty
 * prompt and Ctrl-D quitting. The test waits on events (a prompt being read, reply text arriving,
 * the reader's raw mode), never on time.
 */
class TerminalChatTest {
    private static final long WAIT_SECONDS = 120;
    /** The Up key as xterm sends it in the keypad mode that the line reader switches on. */
    private static final String UP = "\u001bOA";

    @TempDir
    static Path models;
    private static Path modelFile;

    @TempDir
    Path tmp;

    private PipedOutputStream keys;
    private final StringBuffer screen = new StringBuffer();
    private Terminal terminal;
    private final Semaphore prompts = new Semaphore(0);

    @BeforeAll
    static void writeModel() {
        modelFile = TestSupport.writeTinyModel(models);
    }

    @BeforeEach
    void openTerminal() throws IOException {
        keys = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(keys, 1 << 16);
        OutputStream sink = new OutputStream() {
            private final java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
                pending.write(b);
                flush();
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                pending.write(b, off, len);
                flush();
            }

            @Override
            public synchronized void flush() {
                // whole UTF-8 sequences only
                byte[] all = pending.toByteArray();
                int end = all.length;
                int back = 0;
                while (back < 4 && end - back - 1 >= 0 && (all[end - back - 1] & 0xC0) == 0x80) {
                    back++;
                }
                if (end - back - 1 >= 0 && (all[end - back - 1] & 0x80) != 0 && (all[end - back - 1] & 0x40) != 0) {
                    int lead = all[end - back - 1] & 0xFF;
                    int need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
                    if (back < need) {
                        end = end - back - 1;
                    }
                }
                screen.append(new String(all, 0, end, StandardCharsets.UTF_8));
                pending.reset();
                pending.write(all, end, all.length - end);
            }
        };
        // JLine's line discipline in Java (not a pty): Ctrl-C typed raises INT to the terminal's handlers
        terminal = new ExternalTerminal("test", "xterm-256color", in, sink, StandardCharsets.UTF_8);
        terminal.setSize(new Size(120, 40));
    }

    @AfterEach
    void closeTerminal() throws IOException {
        keys.close();
        terminal.close();
    }

    /** Runs a chat on the terminal in the background; its future gives the exit status and the messages. */
    private CompletableFuture<List<ChatMessage>> chat(Path history, String grammar, int maxTokens, int contextSize) {
        return CompletableFuture.supplyAsync(() -> {
            try (Model m = Model.load(modelFile);
                 Context ctx = m.createContext(ContextParams.builder().contextSize(contextSize).build());
                 Sequence seq = ctx.newSequence()) {
                SamplingOptions sampling = new SamplingOptions();
                sampling.sampler = new SamplerFlags();
                sampling.sampler.temperature = 0f;
                sampling.grammarText = grammar;
                try (Sampler sampler = sampling.sampler(m)) {
                    ChatSession chat = new ChatSession(seq, ChatTemplate.builtin("chatml"), null);
                    TerminalChat tc = new TerminalChat(terminal, history, false);
                    tc.beforePrompt = prompts::release;
                    int status = tc.run(out -> new ChatLoop(chat, sampler, sampling, maxTokens, false, true, out, out));
                    assertEquals(0, status, "exit status");
                    return List.copyOf(chat.messages());
                }
            }
        });
    }

    private void type(String s) throws IOException {
        keys.write(s.getBytes(StandardCharsets.UTF_8));
        keys.flush();
    }

    private void awaitPrompt() throws InterruptedException {
        assertTrue(prompts.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS), () -> "no prompt; the screen:\n" + screen);
    }

    /** Waits until the condition holds (polling state, with a generous overall limit). */
    private void await(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, () -> "never: " + what + "; the screen:\n" + screen);
            Thread.sleep(10);
        }
    }

    /** Whether the line reader has the terminal in raw mode (reading keys at a prompt). */
    private boolean readingKeys() {
        Attributes a = terminal.getAttributes();
        return !a.getLocalFlag(Attributes.LocalFlag.ICANON);
    }

    private static List<String> userTurns(List<ChatMessage> messages) {
        return messages.stream().filter(m -> m.role().equals("user")).map(ChatMessage::content).toList();
    }

    @Test
    void multiLineInputWideCharactersAndHistoryRecall() throws Exception {
        Path history = tmp.resolve("home/.llama-java/chat_history");
        CompletableFuture<List<ChatMessage>> run = chat(history, null, 3, 512);
        awaitPrompt();
        type("one 🦙\\\r");            // a trailing backslash continues the line
        type("two 世界\r");
        awaitPrompt();
        type("three\u001b\rfour\r");   // Alt-Enter (ESC CR) adds a line
        awaitPrompt();
        type("five\r");
        awaitPrompt();
        type(UP + "\r");               // Up recalls the last line
        awaitPrompt();
        type("\u0004");                // Ctrl-D at an empty prompt quits
        List<ChatMessage> messages = run.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(List.of("one 🦙\ntwo 世界", "three\nfour", "five", "five"), userTurns(messages),
                () -> "the screen:\n" + screen);
        String saved = Files.readString(history, StandardCharsets.UTF_8);
        assertTrue(saved.contains("five") && saved.contains("🦙") && saved.contains("世界"),
                "the history file holds the lines: " + saved);

        // a new chat with the same history file recalls the last line of the previous one
        prompts.drainPermits();
        CompletableFuture<List<ChatMessage>> again = chat(history, null, 3, 512);
        awaitPrompt();
        type(UP + "\r");
        awaitPrompt();
        type("\u0004");
        assertEquals(List.of("five"), userTurns(again.get(WAIT_SECONDS, TimeUnit.SECONDS)));
    }

    @Test
    void ctrlCStopsTheReplyAndTheNextPromptWorks() throws Exception {
        // a grammar that never lets the reply end, and room for 65536 tokens: only Ctrl-C stops it soon
        CompletableFuture<List<ChatMessage>> run = chat(null, "root ::= \"a\" root", 1_000_000, 65536);
        awaitPrompt();
        type("Tell me a long story\r");
        await("the reply streams", () -> screen.indexOf("aaaaaaaa") >= 0);
        type("\u0003");                // Ctrl-C during the reply
        awaitPrompt();
        assertTrue(screen.indexOf("(interrupted)") >= 0, () -> "no '(interrupted)'; the screen:\n" + screen);
        type("/reset\r");              // the next prompt works
        awaitPrompt();
        await("the reset is confirmed", () -> screen.indexOf("conversation reset") >= 0);
        await("the reader reads keys", this::readingKeys);
        type("\u0003");                // Ctrl-C at an empty prompt quits
        List<ChatMessage> messages = run.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(List.of(), messages, "the conversation was reset");
    }
}
