package io.github.chatglm4j.agent.tool;

/** What a tool does: turns the call's arguments into the text the model reads back. */
@FunctionalInterface
public interface ToolHandler {
    /**
     * @throws ToolException for a failure the model should read in the reference's Python style; any other exception
     *                       is reported to the model as its class name and message
     */
    String call(ToolArguments arguments) throws Exception;
}
