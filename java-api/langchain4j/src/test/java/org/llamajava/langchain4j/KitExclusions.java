package org.llamajava.langchain4j;

import java.util.Map;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The tests of LangChain4j's kits that are not run against llama-java's adapters, each with its
 * reason: every one asserts what a capable chat model knows (the test models are tiny or random).
 * docs/integrations.md lists them. Everything else in the kits runs.
 */
public final class KitExclusions implements ExecutionCondition {
    static final String KNOWLEDGE = "needs a capable chat model's knowledge (the test models are tiny or random): ";

    static final Map<String, String> EXCLUDED = Map.ofEntries(
            Map.entry("should_respect_user_message", "asserts the answer contains Berlin"),
            Map.entry("should_respect_system_message", "asserts a German translation ('liebe')"),
            Map.entry("should_respect_multiple_messages", "asserts the answer recalls 'green'"),
            Map.entry("should_respect_stopSequences_in_chat_request", "asserts the answer says Hello"),
            Map.entry("should_respect_stopSequences_in_default_model_parameters", "asserts the answer says Hello"),
            Map.entry("should_execute_a_tool_then_answer", "a weather call for Munich, then an answer about it"),
            Map.entry("should_execute_a_tool_without_arguments_then_answer", "picks the right tool, then answers"),
            Map.entry("should_execute_multiple_tools_in_parallel_then_answer", "two weather calls, then an answer"),
            Map.entry("should_force_LLM_to_execute_any_tool",
                    "asserts the forced call's arguments are {\"city\":\"Munich\"} (AiServicesTest forces a call)"),
            Map.entry("should_force_LLM_to_execute_specific_tool",
                    "asserts the forced call's arguments are {\"city\":\"Munich\"} (AiServicesTest forces a call)"),
            Map.entry("should_respect_JSON_response_format",
                    "asserts {\"city\": \"Berlin\"} (LangChain4jAdapterTest checks schema output parses)"),
            Map.entry("should_respect_JSON_response_format_with_schema", "asserts {\"city\": \"Berlin\"}"),
            Map.entry("should_respect_JsonRawSchema_responseFormat", "asserts {\"city\": \"Berlin\"}"),
            Map.entry("should_execute_a_tool_then_answer_respecting_JSON_response_format_with_schema",
                    "a weather call for Munich, then a JSON answer about it"),
            Map.entry("should_propagate_user_exceptions_thrown_from_onPartialResponse", "asserts the answer contains Berlin"),
            Map.entry("should_propagate_user_exceptions_thrown_from_onCompleteResponse", "asserts the answer contains Berlin"),
            Map.entry("should_ignore_user_exceptions_thrown_from_onError", "asserts the answer contains Berlin"));

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return context.getTestMethod().map(m -> EXCLUDED.get(m.getName()))
                .map(reason -> ConditionEvaluationResult.disabled(KNOWLEDGE + reason))
                .orElse(ConditionEvaluationResult.enabled("runs against the adapter"));
    }
}
