package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.internal.StateFile;
import org.llamajava.internal.StateFileException;

/** Sequences and chat sessions share one state-file format, read back by its own reader. */
class StateFileTest {
    @TempDir
    Path tmp;

    @Test
    void sequenceAndChatFilesAreOneFormatWithTheirOwnKinds() throws IOException {
        Path modelFile = StateTest.writeModel(tmp, 21);
        try (Model m = Model.load(modelFile);
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).sequences(2).build());
             Sampler g = Sampler.greedy()) {
            Sequence s = ctx.newSequence();
            int[] prompt = m.vocabulary().tokenize("Once upon a time");
            s.generate(prompt, g, GenerateOptions.maxTokens(3));
            Path seqFile = tmp.resolve("seq.state");
            s.save(seqFile);
            byte[] bytes = Files.readAllBytes(seqFile);

            StateFile f = StateFile.read(bytes, "sequence", "seq.state");
            assertEquals(m.fingerprint(), f.fingerprint());
            try (DataInputStream in = f.open("tokens")) {
                int n = in.readInt();
                int[] tokens = new int[n];
                for (int i = 0; i < n; i++) {
                    tokens[i] = in.readInt();
                }
                assertArrayEquals(s.tokens(), tokens, "the tokens section holds the sequence's tokens");
            }
            assertTrue(f.section("kv").length > 0, "the kv section holds llama.cpp's sequence state");

            // saveState/loadState: the same bytes as the file, and they restore the same tokens
            assertArrayEquals(bytes, s.saveState());
            Sequence t = ctx.newSequence();
            t.loadState(s.saveState());
            assertArrayEquals(s.tokens(), t.tokens());
            assertArrayEquals(s.generate(g, GenerateOptions.maxTokens(4)).tokens(),
                    t.generate(g, GenerateOptions.maxTokens(4)).tokens(), "the restored sequence continues alike");
            t.close();

            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"), "Be brief.");
            chat.send("Hello", g, GenerateOptions.maxTokens(2));
            Path chatFile = tmp.resolve("chat.state");
            chat.save(chatFile);
            StateFile c = StateFile.read(Files.readAllBytes(chatFile), "chat", "chat.state");
            assertEquals(m.fingerprint(), c.fingerprint());
            assertEquals("sequence", StateFile.read(c.section("sequence"), "sequence", "inner").kind(),
                    "a chat file holds a whole sequence state");

            LlamaException wrongKind = assertThrows(LlamaException.class, () -> s.load(chatFile));
            assertTrue(wrongKind.getMessage().contains("holds a chat state, not a sequence state"), wrongKind.getMessage());
            ChatSession other = new ChatSession(s, ChatTemplate.builtin("chatml"), null);
            LlamaException wrongKind2 = assertThrows(LlamaException.class, () -> other.load(seqFile));
            assertTrue(wrongKind2.getMessage().contains("holds a sequence state, not a chat state"),
                    wrongKind2.getMessage());
        }
    }

    @Test
    void filesOfTheEarlierPerClassFormatsSaySo() throws IOException {
        Path modelFile = StateTest.writeModel(tmp, 22);
        try (Model m = Model.load(modelFile);
             Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
             Sequence s = ctx.newSequence()) {
            Path old = tmp.resolve("old.state");
            byte[] b = Arrays.copyOf("LLJSEQ01".getBytes(StandardCharsets.US_ASCII), 64);
            Files.write(old, b);
            LlamaException e = assertThrows(LlamaException.class, () -> s.load(old));
            assertTrue(e.getMessage().contains("earlier llama-java") && e.getMessage().contains("save it again"),
                    e.getMessage());
        }
    }

    @Test
    void everyChangedByteIsCaught() {
        byte[] file = StateFile.write("sequence", "fp", java.util.Map.of("tokens", new byte[] {0, 0, 0, 0}));
        StateFile.read(file, "sequence", "ok");
        for (int i = 0; i < file.length; i++) {
            byte[] bad = file.clone();
            bad[i] ^= 0x5a;
            int at = i;
            assertThrows(StateFileException.class, () -> StateFile.read(bad, "sequence", "byte " + at),
                    "a change at byte " + i);
        }
        for (int n = 0; n < file.length; n++) {
            int len = n;
            assertThrows(StateFileException.class, () -> StateFile.read(Arrays.copyOf(file, len), "sequence", "cut"),
                    "truncated to " + n + " bytes");
        }
    }
}
