package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatOptions;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.server.ServerFixture.Reply;

/**
 * llama-server's {@code POST /apply-template} and its {@code --reasoning} default, on the pinned
 * llama.cpp's own templates, with the expectations of llama.cpp's server test suite
 * ({@code tools/server/tests/unit/test_template.py}).
 */
class ApplyTemplateTest {
    @TempDir
    Path tmp;

    private static String prompt(LlamaServer s, String body) {
        Reply r = ServerFixture.post(s.baseUrl() + "/apply-template", body);
        assertEquals(200, r.status(), r.raw().body());
        return r.json().get("prompt").asText();
    }

    private LlamaServer start(Model model, String template, ChatOptions defaults) throws Exception {
        Path file = TestSupport.llamaSource().resolve("models/templates/" + template + ".jinja");
        return LlamaServer.start(model, ServerFixture.config(null).chatTemplate(ChatTemplate.jinja(Files.readString(file),
                model)).chatDefaults(defaults).build());
    }

    @Test
    void thePromptAsTheTemplateRendersIt() throws Exception {
        String user = "{\"messages\": [{\"role\": \"user\", \"content\": \"What is today?\"}]";
        try (Model model = Model.load(ServerFixture.generationModel(tmp))) {
            try (LlamaServer s = start(model, "meta-llama-Llama-3.3-70B-Instruct", ChatOptions.DEFAULT)) {
                String header = "<|start_header_id|>assistant<|end_header_id|>";
                assertTrue(prompt(s, user + "}").contains(header));
                assertFalse(prompt(s, user + ", \"add_generation_prompt\": false}").contains(header));
                assertEquals(400, ServerFixture.post(s.baseUrl() + "/apply-template", "{\"messages\": 3}").status());
            }
            try (LlamaServer s = start(model, "Qwen-Qwen3-0.6B", ChatOptions.DEFAULT)) {
                assertTrue(prompt(s, user + "}").endsWith("<|im_start|>assistant\n"), "auto: the template decides");
            }
            ChatOptions off = ChatOptions.DEFAULT.toBuilder().enableThinking(false)
                    .templateKwargs(Map.of("enable_thinking", "false")).build();
            try (LlamaServer s = start(model, "Qwen-Qwen3-0.6B", off)) {
                assertTrue(prompt(s, user + "}").endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"),
                        "--reasoning off: an empty thought");
            }
        }
    }
}
