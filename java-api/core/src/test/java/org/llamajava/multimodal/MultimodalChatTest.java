package org.llamajava.multimodal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatSession;
import org.llamajava.chat.ChatTemplate;

/** Images in chats: the rendered prompt, KV reuse of the text before and of the image itself. */
class MultimodalChatTest {
    @TempDir
    static Path tmp;
    static Model model;
    static Projector projector;
    static final int IMAGE_TOKENS = 64;

    @BeforeAll
    static void load() {
        model = Model.load(VisionModels.textModel(tmp));
        projector = Projector.load(VisionModels.projector(tmp), model,
                ProjectorParams.defaults().withGpu(false).withThreads(2).withWarmup(false));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void anImageAfterTextReusesTheTextAndThenTheImage() {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
             Sampler greedy = Sampler.greedy()) {
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"), "You see images.");
            chat.setProjector(projector);
            Completion first = chat.send("Hello there.", greedy, GenerateOptions.maxTokens(4));
            assertEquals(0, first.mediaTokens());
            int heldAfterFirst = chat.sequence().length();

            Media image = Media.bytes(VisionModels.image("png"));
            Completion second = chat.send("What is in it?", List.of(image), greedy, GenerateOptions.maxTokens(4));
            assertEquals(IMAGE_TOKENS, second.mediaTokens());
            // the first turn's prompt (and most of its reply) came from the cache; the image was evaluated
            assertTrue(second.cachedTokens() >= first.promptTokens(),
                    "cached " + second.cachedTokens() + " < first prompt " + first.promptTokens());
            assertTrue(second.cachedTokens() <= heldAfterFirst);
            assertTrue(second.promptTokens() > IMAGE_TOKENS, "the image was not evaluated: " + second.promptTokens());
            assertTrue(chat.renderPrompt().contains(Projector.marker() + "What is in it?"), chat.renderPrompt());

            int cachedBefore = second.cachedTokens() + second.promptTokens();
            Completion third = chat.send("And now?", greedy, GenerateOptions.maxTokens(4));
            assertEquals(IMAGE_TOKENS, third.mediaTokens(), "the image is still part of the prompt");
            assertThrows(UnsupportedOperationException.class, () -> chat.save(tmp.resolve("chat.state")));
            assertThrows(UnsupportedOperationException.class, () -> chat.sequence().saveState());
            assertTrue(third.cachedTokens() >= cachedBefore, "the image was evaluated again: cached "
                    + third.cachedTokens() + " < " + cachedBefore);
            // what was evaluated is what follows the cached prefix: the last reply and the new turn
            assertEquals(chat.sequence().length() - third.tokenCount() + 1, third.cachedTokens() + third.promptTokens());
        }
    }

    @Test
    void aChatWithAnImageGivesTheSameTextAsTheRawPrompt() throws Exception {
        Media image = Media.image(ImageIO.read(new ByteArrayInputStream(VisionModels.image("png"))));
        Completion viaChat;
        String prompt;
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
             Sampler greedy = Sampler.greedy()) {
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"));
            chat.setProjector(projector);
            viaChat = chat.send("Describe this.", List.of(image), greedy, GenerateOptions.maxTokens(12));
            prompt = chat.template().render(chat.messages().subList(0, 1), true);
        }
        assertEquals(ProjectorOracleTest.chatml(Projector.marker() + "Describe this."), prompt);
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).build());
             Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            Completion raw = projector.generate(seq, prompt, List.of(image), greedy, GenerateOptions.maxTokens(12));
            assertEquals(raw.text(), viaChat.text());
            assertEquals(IMAGE_TOKENS, raw.mediaTokens());
        }
    }

    @Test
    void bufferedImageAndRawRgbAreTheSameMedia() throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(VisionModels.image("png")));
        byte[] rgb = new byte[img.getWidth() * img.getHeight() * 3];
        for (int y = 0, i = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                rgb[i++] = (byte) (p >> 16);
                rgb[i++] = (byte) (p >> 8);
                rgb[i++] = (byte) p;
            }
        }
        assertEquals(Media.image(img), Media.rgb(img.getWidth(), img.getHeight(), rgb));
        assertEquals(IMAGE_TOKENS, projector.countTokens(Media.rgb(img.getWidth(), img.getHeight(), rgb)));
    }

    @Test
    void aChatWithMediaNeedsAProjector() {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
             Sampler greedy = Sampler.greedy()) {
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"));
            Media image = Media.bytes(VisionModels.image("png"));
            assertThrows(IllegalStateException.class,
                    () -> chat.send("Look.", List.of(image), greedy, GenerateOptions.maxTokens(2)));
            assertTrue(chat.messages().isEmpty());
            chat.addMessage(ChatMessage.user("Look.", List.of(image)));
            assertThrows(IllegalStateException.class, () -> chat.send("And?", greedy, GenerateOptions.maxTokens(2)));
        }
    }
}
