package org.llamajava.samples.frameworks;

import java.util.Map;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot app with a chat endpoint over llama-java's Spring AI starter: one property names
 * the model, Spring AI's {@link ChatClient} does the rest.
 *
 * <pre>
 * java -cp ... org.llamajava.samples.frameworks.ChatApplication \
 *     --spring.ai.llamajava.chat.model=../shared/models/stories260K.gguf
 * curl -s localhost:8080/chat -H 'Content-Type: application/json' -d '{"message": "Once upon a time"}'
 * # {"reply": "..."}
 * </pre>
 *
 * <p>stories260K continues stories; a real instruction-tuned GGUF (for example Qwen 2.5 Instruct)
 * answers questions, and with {@code ChatClient.prompt().tools(...)} calls tools.
 */
@SpringBootApplication
public class ChatApplication {
    /** The chat endpoint. */
    @RestController
    public static class ChatController {
        private final ChatClient chat;

        public ChatController(ChatClient.Builder builder) {
            this.chat = builder.defaultSystem("You are a helpful assistant.").build();
        }

        @PostMapping("/chat")
        public Map<String, String> chat(@RequestBody Map<String, String> request) {
            String message = request.getOrDefault("message", "");
            return Map.of("reply", chat.prompt().user(message).call().content());
        }
    }

    /** Starts the app (what {@link #main} does), returning its context. */
    public static ConfigurableApplicationContext start(String... args) {
        return SpringApplication.run(ChatApplication.class, args);
    }

    public static void main(String[] args) {
        start(args);
    }
}
