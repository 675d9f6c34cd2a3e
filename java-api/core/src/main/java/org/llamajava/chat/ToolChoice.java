package org.llamajava.chat;

/**
 * Whether and which tools the model must call, as OpenAI's {@code tool_choice}.
 *
 * @param mode {@code auto}, {@code none} or {@code required}
 * @param tool the one tool a {@link #named} choice requires, else null
 */
public record ToolChoice(String mode, String tool) {
    /** The model decides. */
    public static final ToolChoice AUTO = new ToolChoice("auto", null);
    /** No tool calls. */
    public static final ToolChoice NONE = new ToolChoice("none", null);
    /** At least one tool call (the grammar forces it). */
    public static final ToolChoice REQUIRED = new ToolChoice("required", null);

    public ToolChoice {
        if (!"auto".equals(mode) && !"none".equals(mode) && !"required".equals(mode)) {
            throw new IllegalArgumentException("tool choice mode must be auto, none or required; got " + mode);
        }
        if (tool != null && !"required".equals(mode)) {
            throw new IllegalArgumentException("a named tool choice is required mode");
        }
    }

    /** A call of this tool is required (only this tool is offered to the model for the turn). */
    public static ToolChoice named(String tool) {
        if (tool == null || tool.isBlank()) {
            throw new IllegalArgumentException("tool name must not be blank");
        }
        return new ToolChoice("required", tool);
    }
}
