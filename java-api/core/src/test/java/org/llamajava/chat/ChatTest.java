package org.llamajava.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Llama;
import org.llamajava.LlamaException;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;

/** Chat templates render as llama.cpp renders them; a ChatSession reuses its KV cache across turns. */
class ChatTest {
    @TempDir
    static Path tmp;

    static final List<ChatMessage> MESSAGES = List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("Hello, how are you? 🦙"),
            ChatMessage.assistant("I am fine, thank you! 你好"),
            ChatMessage.user("Tell me a story."));

    static Stream<String> templates() {
        return Stream.of("Qwen-Qwen2.5-7B-Instruct", "meta-llama-Llama-3.2-3B-Instruct",
                "microsoft-Phi-3.5-mini-instruct", "mistralai-Mistral-Nemo-Instruct-2407",
                "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", "ibm-granite-granite-3.3-2B-Instruct",
                "HuggingFaceTB-SmolLM3-3B", "NousResearch-Hermes-3-Llama-3.1-8B-tool_use");
    }

    /** llama.cpp's own renderer (tests/test-chat-template.cpp, built from the same source). */
    static String oracle(Path template, List<ChatMessage> messages, String bos, String eos) throws Exception {
        StringBuilder json = new StringBuilder("{\"messages\": [");
        for (int i = 0; i < messages.size(); i++) {
            json.append(i == 0 ? "" : ",").append("{\"role\": ").append(quote(messages.get(i).role()))
                    .append(", \"content\": ").append(quote(messages.get(i).content())).append('}');
        }
        json.append("], \"bos_token\": ").append(quote(bos)).append(", \"eos_token\": ").append(quote(eos))
                .append(", \"add_generation_prompt\": true}");
        Path in = Files.writeString(Files.createTempFile(tmp, "msgs", ".json"), json, StandardCharsets.UTF_8);
        Path out = tmp.resolve("rendered-" + System.nanoTime() + ".txt");
        TestSupport.Run r = TestSupport.runTool("test-chat-template", template.toString(), "--json", in.toString(),
                "--output", out.toString());
        assertEquals(0, r.exitCode(), r.stderr());
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c == '"' || c == '\\') {
                b.append('\\').appendCodePoint(c);
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.append('"').toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("templates")
    void jinjaTemplatesRenderAsLlamaCppRendersThem(String name) throws Exception {
        Path file = TestSupport.llamaSource().resolve("models/templates/" + name + ".jinja");
        String source = Files.readString(file, StandardCharsets.UTF_8);
        String expected = oracle(file, MESSAGES, "<s>", "</s>");
        String actual = ChatTemplate.jinja(source, "<s>", "</s>").render(MESSAGES, true);
        assertEquals(expected, actual);
        assertTrue(actual.contains("Tell me a story."));
    }

    @Test
    void checkResolvableAcceptsBuiltinNamesAndFilesAndNamesTheBuiltinsOtherwise() throws Exception {
        assertEquals(null, ChatTemplate.checkResolvable(null));
        assertEquals(null, ChatTemplate.checkResolvable("chatml"));
        Path file = Files.writeString(Files.createTempFile("template", ".jinja"), "{{ messages }}");
        try {
            assertEquals(file, ChatTemplate.checkResolvable(file.toString()));
        } finally {
            Files.delete(file);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.checkResolvable("no-such-template"));
        assertTrue(e.getMessage().contains("'no-such-template'") && e.getMessage().contains("chatml"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.checkResolvable(file.getParent().toString()),
                "a folder is not a template file");
    }

    @Test
    void theModelsOwnTemplateFromGgufMetadata() throws Exception {
        Path phi3 = TestSupport.llamaSource().resolve("models/ggml-vocab-phi-3.gguf");
        try (Model m = Model.load(phi3, ModelParams.builder().vocabOnly(true).build())) {
            String source = m.chatTemplate();
            assertTrue(source != null && source.contains("<|assistant|>"), "phi-3 ships a chat template");
            Path file = Files.writeString(tmp.resolve("phi3.jinja"), source, StandardCharsets.UTF_8);
            Vocabulary v = m.vocabulary();
            String bos = v.tokenPiece(v.bos());
            String expected = oracle(file, MESSAGES, bos, v.tokenPiece(v.eos()));
            // with a model whose tokenizer adds BOS, llama.cpp drops the template's leading BOS text
            // (common/chat.cpp), since tokenizing the prompt adds the BOS token
            assertTrue(v.addsBos() && expected.startsWith(bos));
            assertEquals(expected.substring(bos.length()), ChatTemplate.of(m).render(MESSAGES, true));
        }
    }

    @Test
    void builtinTemplatesByName() {
        assertTrue(ChatTemplate.builtinNames().containsAll(List.of("chatml", "llama3", "phi3")));
        List<ChatMessage> msgs = List.of(ChatMessage.system("S"), ChatMessage.user("Hi"));
        // the chatml format as documented
        assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.builtin("chatml").render(msgs, true));
        assertTrue(ChatTemplate.builtin("llama3").render(msgs, true)
                .endsWith("<|start_header_id|>assistant<|end_header_id|>\n\n"));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.builtin("no-such-template"));
    }

    @Test
    void malformedTemplateGivesAClearError() {
        LlamaException e = assertThrows(LlamaException.class,
                () -> ChatTemplate.jinja("{% for m in messages %}{{ m.content ", "<s>", "</s>").render(MESSAGES, true));
        assertTrue(e.getMessage().startsWith("chat template failed to render"), e.getMessage());
    }

    @Test
    void secondTurnReusesTheCacheAndMatchesAFreshRun() {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(1024).build());
             Sampler greedy = Sampler.greedy()) {
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"), "You tell stories.");
            Completion r1 = chat.send("Once upon a time", greedy, GenerateOptions.maxTokens(16));
            int turn1Prompt = r1.promptTokens();
            Completion r2 = chat.send("Tell me about Lily.", greedy, GenerateOptions.maxTokens(16));
            assertTrue(r2.cachedTokens() >= turn1Prompt, r2.cachedTokens() + " >= " + turn1Prompt);
            assertTrue(r2.promptTokens() < r2.cachedTokens(), "turn 2 evaluates only its new tokens: "
                    + r2.promptTokens() + " evaluated, " + r2.cachedTokens() + " reused");
            assertEquals(4 + 1, chat.messages().size());
            // a fresh evaluation of the full history gives the same reply
            List<ChatMessage> history = chat.messages().subList(0, 4);
            try (Context fresh = m.createContext(ContextParams.builder().contextSize(1024).build());
                 Sequence s = fresh.newSequence()) {
                ChatSession replay = new ChatSession(s, ChatTemplate.builtin("chatml"));
                replay.setMessages(history);
                int[] prompt = replay.tokens(replay.renderPrompt());
                Completion again = s.generate(prompt, greedy, GenerateOptions.maxTokens(16));
                assertEquals(0, again.cachedTokens());
                assertArrayEquals(again.tokens(), r2.tokens());
                assertEquals(again.text(), r2.text());
            }
            // history can be edited: the next turn reuses the cache up to the edit
            chat.setMessages(List.of(ChatMessage.system("You tell stories."), ChatMessage.user("Once upon a time")));
            Completion edited = chat.send("The end.", greedy, GenerateOptions.maxTokens(4));
            assertTrue(edited.cachedTokens() > 0 && edited.cachedTokens() < r2.cachedTokens());
            chat.reset();
            assertEquals(List.of(ChatMessage.system("You tell stories.")), chat.messages());
        }
    }

    @Test
    void chatSaveAndLoad() {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        Path file = tmp.resolve("chat.bin");
        String expected;
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(1024).build());
             Sampler greedy = Sampler.greedy()) {
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"));
            chat.send("Once upon a time", greedy, GenerateOptions.maxTokens(12));
            chat.save(file);
            expected = chat.send("What happened next?", greedy, GenerateOptions.maxTokens(12)).text();
        }
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(1024).build());
             Sampler greedy = Sampler.greedy()) {
            ChatSession chat = new ChatSession(ctx.newSequence(), ChatTemplate.builtin("chatml"));
            chat.load(file);
            assertEquals(2, chat.messages().size());
            Completion c = chat.send("What happened next?", greedy, GenerateOptions.maxTokens(12));
            assertEquals(expected, c.text());
            assertTrue(c.cachedTokens() > 0, "the loaded KV state is reused");
        }
    }
}
