package io.github.chatglm4j.server.http;

import java.io.IOException;

/**
 * Answers one request. It runs on its own virtual thread and may block (a generation takes as long as it takes); the
 * connection meanwhile watches for the client leaving ({@link HttpExchange#onClientGone}).
 */
@FunctionalInterface
public interface HttpHandler {
    void handle(HttpExchange exchange) throws IOException;
}
