package org.llamajava.langchain4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatModels;
import org.llamajava.chat.ChatTemplate;

/**
 * The models LangChain4j's test kits run against: stories260K (real tiny weights, chatml) for
 * plain chat, the random-weight tool model with Qwen 2.5's template where a kit sends tools.
 * Each kit class closes what it opened.
 */
final class KitModels implements AutoCloseable {
    private final List<AutoCloseable> open = new ArrayList<>();
    private Model stories;
    private Model tools;

    /** stories260K, loaded once per kit class. */
    Model stories() {
        if (stories == null) {
            stories = track(Model.load(TestSupport.sharedModel("stories260K.gguf")));
        }
        return stories;
    }

    /** The tool model (Llama-2 vocabulary plus chat-format specials), loaded once per kit class. */
    Model tools(Path dir) {
        if (tools == null) {
            tools = track(Model.load(ChatModels.toolModel(dir, true)));
        }
        return tools;
    }

    static ChatTemplate qwen(Model model) {
        try {
            return ChatTemplate.jinja(Files.readString(TestSupport.llamaSource()
                    .resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja")), model);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    <T extends AutoCloseable> T track(T resource) {
        open.add(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        open.clear();
    }
}
