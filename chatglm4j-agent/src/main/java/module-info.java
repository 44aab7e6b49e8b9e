/**
 * ChatGLM3's agent side: tools, the sandboxed code interpreter and the multi-round agent loop over the engine.
 * The API starts at {@link io.github.chatglm4j.agent.Agent}.
 */
module io.github.chatglm4j.agent {
    requires transitive io.github.chatglm4j.core;
    requires java.net.http;
    requires com.fasterxml.jackson.dataformat.yaml;

    exports io.github.chatglm4j.agent;
    exports io.github.chatglm4j.agent.interpreter;
    exports io.github.chatglm4j.agent.sandbox;
    exports io.github.chatglm4j.agent.tool;
}
