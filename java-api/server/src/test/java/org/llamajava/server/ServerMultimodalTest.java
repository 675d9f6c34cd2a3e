package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.post;

import java.util.Base64;
import java.util.List;
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
import org.llamajava.multimodal.Media;
import org.llamajava.multimodal.Projector;
import org.llamajava.multimodal.ProjectorParams;
import org.llamajava.multimodal.VisionModels;

/**
 * {@code /v1/chat/completions} with OpenAI {@code image_url} parts (data: URLs) on a server
 * started with a projector: the reply is the one {@link Projector#generate} gives for the same
 * rendered prompt and image (itself verified against llama-mtmd-cli in the core's
 * ProjectorOracleTest); remote URLs, images without a projector, and broken data are 400s.
 */
class ServerMultimodalTest {
    @TempDir
    static java.nio.file.Path tmp;
    static Model model;
    static Projector projector;
    static LlamaServer server;
    static LlamaServer textOnly;
    static String png;

    @BeforeAll
    static void start() {
        model = Model.load(VisionModels.textModel(tmp));
        projector = Projector.load(VisionModels.projector(tmp), model,
                ProjectorParams.defaults().withGpu(false).withThreads(1).withWarmup(false));
        server = LlamaServer.start(model, ServerFixture.config(null).build(), projector);
        textOnly = LlamaServer.start(model, ServerFixture.config(null).build());
        png = Base64.getEncoder().encodeToString(VisionModels.image("png"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (textOnly != null) {
            textOnly.close();
        }
        if (model != null) {
            model.close();
        }
    }

    static String body(String url) {
        return "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \""
                + url + "\"}}, {\"type\": \"text\", \"text\": \"Describe this.\"}]}], \"max_tokens\": 12,"
                + " \"temperature\": 0}";
    }

    @Test
    void anImageDataUrlGivesTheProjectorsReply() {
        ServerFixture.Reply r = post(server.baseUrl() + "/v1/chat/completions", body("data:image/png;base64," + png));
        assertEquals(200, r.status(), r.raw().body());
        String content = r.json().at("/choices/0/message/content").asText();
        assertEquals(64, r.json().at("/usage/prompt_tokens_details/image_tokens").asInt(), r.raw().body());
        Completion expected;
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).threads(1).build());
             Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            expected = projector.generate(seq, "<|im_start|>user\n" + Projector.marker() + "Describe this.<|im_end|>\n"
                    + "<|im_start|>assistant\n", List.of(Media.bytes(VisionModels.image("png"))), greedy,
                    GenerateOptions.maxTokens(12));
        }
        assertEquals(expected.text(), content);
        // the same request again: the prompt, image included, comes from the cache
        ServerFixture.Reply again = post(server.baseUrl() + "/v1/chat/completions", body("data:image/png;base64," + png));
        assertEquals(content, again.json().at("/choices/0/message/content").asText());
        assertTrue(again.json().at("/usage/prompt_tokens_details/cached_tokens").asInt() > 64, again.raw().body());
    }

    @Test
    void anImageRequestGeneratesWithTheLoraItNames() {
        org.llamajava.LoraAdapter lora = org.llamajava.LoraAdapter.load(model, org.llamajava.AdapterFiles.writeLora(
                tmp.resolve("vision-lora.gguf"), "llama", org.llamajava.gguf.ModelShape.tiny(), 4, 8f, 1));
        java.util.Map<org.llamajava.LoraAdapter, Float> none = new java.util.LinkedHashMap<>();
        none.put(lora, 0f); // loaded, not applied: as serve --lora F --lora-init-without-apply
        String[] expected = new String[2];
        for (int i = 0; i < 2; i++) {
            try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).threads(1).build())) {
                ctx.setLoraAdapter(lora, i);
                try (Sequence seq = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                    expected[i] = projector.generate(seq, "<|im_start|>user\n" + Projector.marker() + "Describe this."
                            + "<|im_end|>\n<|im_start|>assistant\n", List.of(Media.bytes(VisionModels.image("png"))),
                            greedy, GenerateOptions.maxTokens(12)).text();
                }
            }
        }
        assertTrue(!expected[0].equals(expected[1]), "the adapter must change the reply for this test to mean anything");
        try (LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build(), projector,
                ctx -> ctx.setLoraAdapters(none))) {
            String image = body("data:image/png;base64," + png);
            ServerFixture.Reply with = post(s.baseUrl() + "/v1/chat/completions",
                    image.substring(0, image.length() - 1) + ", \"lora\": [{\"id\": 0, \"scale\": 1}]}");
            assertEquals(200, with.status(), with.raw().body());
            assertEquals(expected[1], with.json().at("/choices/0/message/content").asText());
            ServerFixture.Reply without = post(s.baseUrl() + "/v1/chat/completions", image);
            assertEquals(expected[0], without.json().at("/choices/0/message/content").asText());
        }
    }

    @Test
    void remoteUrlsAreRefused() {
        ServerFixture.Reply r = post(server.baseUrl() + "/v1/chat/completions", body("https://example.com/cat.png"));
        assertEquals(400, r.status());
        assertTrue(r.error().get("message").asText().contains("does not fetch remote URLs"), r.raw().body());
    }

    @Test
    void brokenImagesAreClientErrors() {
        ServerFixture.Reply r = post(server.baseUrl() + "/v1/chat/completions", body("data:image/png;base64,@@@"));
        assertEquals(400, r.status(), r.raw().body());
        String text = Base64.getEncoder().encodeToString("not an image".getBytes());
        r = post(server.baseUrl() + "/v1/chat/completions", body("data:image/png;base64," + text));
        assertEquals(400, r.status(), r.raw().body());
        assertTrue(r.error().get("message").asText().contains("unsupported media type"), r.raw().body());
        byte[] truncated = java.util.Arrays.copyOf(VisionModels.image("png"), 200);
        r = post(server.baseUrl() + "/v1/chat/completions",
                body("data:image/png;base64," + Base64.getEncoder().encodeToString(truncated)));
        assertEquals(400, r.status(), r.raw().body());
        assertTrue(r.error().get("message").asText().contains("corrupt"), r.raw().body());
    }

    @Test
    void withoutAProjectorImagesAreRefused() {
        ServerFixture.Reply r = post(textOnly.baseUrl() + "/v1/chat/completions", body("data:image/png;base64," + png));
        assertEquals(400, r.status());
        assertTrue(r.error().get("message").asText().contains("--mmproj"), r.raw().body());
    }
}
