package io.github.chatglm4j.server.http;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A handler still working when the listener closes (the web UI's first /api/info runs the sandbox check, which can
 * outlast a short-lived server) answers into a closed connection: its write fails as a write to a gone client does
 * (an IOException the connection handles quietly), not with the closed timer's RejectedExecutionException, which
 * escaped the handler as an uncaught exception and was logged as a server error.
 */
class ClosingListenerTest {
    @Test
    void aResponseWrittenAfterTheListenerClosedFailsAsAGoneClient() throws Exception {
        var entered = new CountDownLatch(1);
        var closed = new CountDownLatch(1);
        var finished = new CountDownLatch(1);
        var thrown = new AtomicReference<Throwable>();
        HttpListener listener = HttpListener.start(new InetSocketAddress("127.0.0.1", 0), HttpLimits.defaults(), ex -> {
            entered.countDown();
            try {
                closed.await();
                ex.respond(200, "text/plain", "late".getBytes(StandardCharsets.UTF_8));
            } catch (Throwable t) {
                thrown.set(t);
                throw t instanceof IOException io ? io : new IOException(t);
            } finally {
                finished.countDown();
            }
        }, (status, message, code) -> new ErrorRenderer.Rendered("text/plain", message.getBytes(StandardCharsets.UTF_8)));
        var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        var response = client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listener.port() + "/slow")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(entered.await(30, TimeUnit.SECONDS)).as("the handler started").isTrue();

        listener.close();
        closed.countDown();

        assertThat(finished.await(30, TimeUnit.SECONDS)).as("the handler finished").isTrue();
        assertThat(thrown.get()).as("what the late write threw").isInstanceOf(IOException.class);
        assertThat(response).failsWithin(30, TimeUnit.SECONDS);
    }
}
