/**
 * The OpenAI-compatible HTTP server over the engine, on its own strict HTTP/1.1 transport.
 * The API starts at {@link io.github.chatglm4j.server.OpenAiServer}.
 */
module io.github.chatglm4j.server {
    requires transitive io.github.chatglm4j.core;

    exports io.github.chatglm4j.server;
    exports io.github.chatglm4j.server.http;   // HttpLimits configures the server; the transport serves other apps too
}
