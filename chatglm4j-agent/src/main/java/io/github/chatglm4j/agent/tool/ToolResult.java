package io.github.chatglm4j.agent.tool;

/**
 * What a call gave back.
 *
 * @param text   the result as the model reads it (before truncation)
 * @param failed the call did not succeed: unknown tool, bad arguments, or the tool failed
 */
public record ToolResult(String text, boolean failed) {
}
