package org.llamajava;

/**
 * A limit on how many tokens a model may spend reasoning, as llama.cpp's reasoning budget sampler
 * ({@code common_reasoning_budget_init}, llama-server's {@code reasoning_budget}) applies it: from
 * the start tag on, once {@code tokens} tokens have been generated without the end tag, the
 * sampler forces {@code message} and then the end tag, token by token; after the end tag it lets
 * everything through. Add it to a chain with {@link Sampler.Builder#reasoningBudget}; a chat
 * format gives its thinking tags with {@code ChatFormat.reasoningBudget(int, String)}.
 *
 * @param tokens       the most tokens between the start tag and the forced end (0: end at once)
 * @param startTag     the text that opens reasoning, e.g. {@code <think>}
 * @param endTag       the text that closes it, e.g. {@code </think>}
 * @param message      text forced before the end tag when the budget runs out ("" for none)
 * @param startsInside true when the prompt already opened reasoning (a chat's generation prompt
 *                     that ends with the start tag): counting starts with the first token
 */
public record ReasoningBudget(int tokens, String startTag, String endTag, String message, boolean startsInside) {
    /** Checks the parts. */
    public ReasoningBudget {
        if (tokens < 0) {
            throw new IllegalArgumentException("the reasoning budget must be at least 0 tokens; got " + tokens);
        }
        if (startTag == null || startTag.isEmpty() || endTag == null || endTag.isEmpty()) {
            throw new IllegalArgumentException("a reasoning budget needs its start and end tags");
        }
        message = message == null ? "" : message;
    }
}
