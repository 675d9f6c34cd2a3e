package org.llamajava.samples.frameworks;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.service.AiServices;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llamajava.Model;
import org.llamajava.Vocabulary;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.langchain4j.LlamaChatModel;

/**
 * An agent with two tools through LangChain4j's {@code AiServices}: the model calls a tool, the
 * service runs the Java method and sends its result back, and the model answers.
 *
 * <pre>
 * java -cp ... org.llamajava.samples.frameworks.AgentSample MODEL.gguf [TEMPLATE.jinja] [--random-weights]
 * </pre>
 *
 * <p>MODEL must have a tool-calling chat template (its own, or TEMPLATE). The shared models have
 * none, so the sample's test runs it on a random-weight model in a real shape with the chat
 * formats' special tokens and llama.cpp's Qwen 2.5 template, with {@code --random-weights}: logit
 * biases and a repetition penalty that stand in for a trained model's habits, and a tool call
 * required on each user turn. The tool arguments are valid (the grammar of the template's tool
 * format enforces the schema), but which tool and which city are chance. With a real tool-calling
 * model (for example Qwen 2.5 Instruct) leave out {@code --random-weights}: it picks the tool the
 * question needs and answers from its result.
 */
public final class AgentSample {
    /** Cities the tools know. */
    public enum City { PARIS, OSLO, LIMA }

    /** The agent's two tools. */
    public static final class Tools {
        @Tool("The weather in a city for the next days")
        public String weather(@P("the city") City city, @P("how many days, 1 to 7") int days) {
            String result = "{\"city\": \"" + city + "\", \"forecast\": \"sunny\", \"days\": " + days + "}";
            System.out.println("tool weather(" + city + ", " + days + ") -> " + result);
            return result;
        }

        @Tool("The local time in a city")
        public String localTime(@P("the city") City city) {
            String result = "{\"city\": \"" + city + "\", \"time\": \"12:00\"}";
            System.out.println("tool localTime(" + city + ") -> " + result);
            return result;
        }
    }

    /** The service the agent implements. */
    public interface Assistant {
        String chat(String message);
    }

    /**
     * Requires a tool call on a user turn and allows none after tool results (AiServices has no
     * per-turn tool choice): a small model then calls once and answers.
     */
    static final class ToolFirst implements ChatModel {
        private final LlamaChatModel delegate;

        ToolFirst(LlamaChatModel delegate) {
            this.delegate = delegate;
        }

        @Override
        public ChatResponse doChat(ChatRequest request) {
            ChatMessage last = request.messages().get(request.messages().size() - 1);
            ToolChoice choice = last instanceof ToolExecutionResultMessage ? ToolChoice.NONE : ToolChoice.REQUIRED;
            return delegate.chat(request.toBuilder().parameters(request.parameters()
                    .overrideWith(ChatRequestParameters.builder().toolChoice(choice).build())).build());
        }

        @Override
        public ChatRequestParameters defaultRequestParameters() {
            return delegate.defaultRequestParameters();
        }
    }

    private AgentSample() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: AgentSample MODEL.gguf [TEMPLATE.jinja] [--random-weights]");
            System.exit(2);
        }
        boolean random = java.util.Arrays.asList(args).contains("--random-weights");
        String template = args.length > 1 && !args[1].startsWith("--") ? args[1] : null;
        try (Model model = Model.load(Path.of(args[0]))) {
            LlamaChatModel.Builder b = LlamaChatModel.builder().model(model).maxTokens(200);
            if (template != null) {
                b.chatTemplate(ChatTemplate.jinja(Files.readString(Path.of(template)), model));
            }
            if (random) {
                Vocabulary v = model.vocabulary();
                int[] open = v.tokenize("<tool_call>", false, true);
                int[] newline = v.tokenize("\n", false, true);
                b.logitBias(open[open.length - 1], 30f).logitBias(newline[newline.length - 1], 25f)
                        .logitBias(v.tokenize("<|im_end|>", false, true)[0], 40f).penalties(64, 100f, 0f, 0f)
                        .temperature(1.0).seed(3);
            }
            try (LlamaChatModel chat = b.build()) {
                Assistant agent = AiServices.builder(Assistant.class).chatModel(random ? new ToolFirst(chat) : chat)
                        .tools(new Tools()).build();
                String question = "What is the weather in Paris this week?";
                System.out.println("question: " + question);
                System.out.println("answer: " + agent.chat(question).strip());
            }
        }
    }
}
