package org.llamajava.samples.frameworks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatModels;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** Runs each framework sample as written (its main, with the shared models) and checks its output's structure. */
class FrameworkSamplesTest {
    @TempDir
    static Path tmp;

    interface Main {
        void run() throws Exception;
    }

    static List<String> stdout(Main main) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            main.run();
        } finally {
            System.setOut(original);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        original.print(out);
        return out.lines().toList();
    }

    @Test
    void ragRetrievesTheLlamaChunkAndPromptsWithIt() throws Exception {
        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        List<String> out = stdout(() -> RagSample.main(new String[] {minilm.toString(), stories.toString(),
            "Which animal carries loads in the Andes?"}));
        assertTrue(out.get(0).matches("chunks: \\d+") && Integer.parseInt(out.get(0).substring(8)) > 4,
                "the documents were chunked: " + out.get(0));
        assertEquals("retrieved:", out.get(1));
        assertTrue(out.get(2).contains("[llamas]") && out.get(2).contains("Andes"),
                "the nearest chunk is the one about llamas in the Andes: " + out.get(2));
        int prompt = out.indexOf("prompt:");
        assertEquals(5, prompt, "three retrieved chunks, then the prompt");
        assertTrue(out.get(prompt + 2).contains("Andes"), "the retrieved chunk is in the prompt");
        int question = out.indexOf("question: Which animal carries loads in the Andes?");
        assertEquals(prompt + 5, question, "the prompt holds the three chunks, then the question");
        assertTrue(out.get(question + 1).startsWith("answer: "), "then the answer (it may span lines)");
    }

    @Test
    void theAgentCallsAToolAndAnswers() throws Exception {
        Path model = ChatModels.toolModel(tmp, true);
        Path template = TestSupport.llamaSource().resolve("models/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
        List<String> out = stdout(() -> AgentSample.main(new String[] {model.toString(), template.toString(),
            "--random-weights"}));
        // (LangChain4j logs to stdout through SLF4J's default binding: the sample's lines start at the question)
        out = out.subList(out.indexOf("question: What is the weather in Paris this week?"), out.size());
        assertEquals(1, out.stream().filter(l -> l.matches("tool (weather\\((PARIS|OSLO|LIMA), -?\\d+\\)|localTime\\("
                + "(PARIS|OSLO|LIMA)\\)) -> \\{.*\\}")).count(), "one tool ran, with valid arguments: " + out);
        assertTrue(out.get(2).startsWith("answer:"), out.toString());
    }

    @Test
    void theSpringBootAppAnswersOnItsChatEndpoint() throws Exception {
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        try (ConfigurableApplicationContext ctx = ChatApplication.start("--spring.ai.llamajava.chat.model=" + stories,
                "--spring.ai.llamajava.chat.options.max-tokens=16", "--server.port=0")) {
            int port = ((WebServerApplicationContext) ctx).getWebServer().getPort();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/chat")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"message\": \"Once upon a time\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode body = new ObjectMapper().readTree(r.body());
            assertTrue(body.get("reply").isTextual() && !body.get("reply").asText().isBlank(), r.body());
        }
    }
}
