package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.server.http.HttpLimits;
import io.github.chatglm4j.testing.Await;
import io.github.chatglm4j.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Malformed and hostile HTTP, byte for byte (issue 10, items 3 and 5): every error a client can see is OpenAI's
 * error object or a plain close, never an HTML page or an exception's name; slow and silent clients are cut off by
 * the configured deadlines (small here, so the tests are quick) and the server keeps serving.
 */
class HttpProtocolTest {
    static final Duration SHORT = Duration.ofMillis(300);
    static Harness h;
    static String host;

    @BeforeAll
    static void start() {
        HttpLimits limits = HttpLimits.defaults().withHeaderTimeout(SHORT).withBodyTimeout(SHORT).withIdleTimeout(SHORT)
                .withMaxHeaderBytes(4096).withMaxBodyBytes(4096);
        h = new Harness(ScriptedModel.replying(256, Scripts.assistant()), 1, 4, ServerOptions.local(0).withLimits(limits));
        host = "127.0.0.1:" + h.server.port();
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static final String HELLO = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 3}";

    /** OpenAI's error object with every field, as JSON, no trace of Java. */
    static JsonNode openAiError(RawHttp.Response r, int status) throws Exception {
        assertThat(r).as("an answer, not a plain close").isNotNull();
        assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.body()).doesNotContain("<html").doesNotContain("Exception").doesNotContain("java.");
        JsonNode error = Harness.JSON.readTree(r.body()).get("error");
        assertThat(error).as("error object in %s", r.body()).isNotNull();
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(error.has("type") && error.has("param") && error.has("code")).as("all four fields in %s", error).isTrue();
        return error;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "two different Content-Lengths | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: 2\\r\\nContent-Length: 3\\r\\n\\r\\n{}} | 400",
            "two equal Content-Lengths | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: 2\\r\\nContent-Length: 2\\r\\n\\r\\n{} | 400",
            "a Content-Length list | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: 2, 2\\r\\n\\r\\n{} | 400",
            "Content-Length and chunked | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: 2\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n | 400",
            "a negative Content-Length | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: -2\\r\\n\\r\\n{} | 400",
            "a Content-Length with a plus sign | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: +2\\r\\n\\r\\n{} | 400",
            "a Content-Length in hex | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: 0x2\\r\\n\\r\\n{} | 400",
            "a huge Content-Length | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: 99999999999999999999999\\r\\n\\r\\n{} | 413",
            "a Content-Length beyond what is discarded | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nContent-Length: 999999999999\\r\\n\\r\\n{} | 413",
            "a transfer coding other than chunked | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n | 501",
            "a chunk size that is not hex | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n{}\\r\\n0\\r\\n\\r\\n | 400",
            "a chunk longer than its size | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1\\r\\n{}\\r\\n0\\r\\n\\r\\n | 400",
            "a bad percent-escape | GET /v1/mod%zzels HTTP/1.1\\r\\nHost: HOST\\r\\n\\r\\n | 400",
            "a percent-escape of invalid UTF-8 | GET /v1/%ff%fe HTTP/1.1\\r\\nHost: HOST\\r\\n\\r\\n | 400",
            "an escaped control character | GET /v1/%00 HTTP/1.1\\r\\nHost: HOST\\r\\n\\r\\n | 400",
            "the HTTP/2 preface | PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n | 505",
            "HTTP/1.2 | GET /health HTTP/1.2\\r\\nHost: HOST\\r\\n\\r\\n | 505",
            "not HTTP at all | HELLO\\r\\n\\r\\n | 400",
            "a bare line feed | GET /health HTTP/1.1\\nHost: HOST\\n\\n | 400",
            "a folded header line | GET /health HTTP/1.1\\r\\nHost: HOST\\r\\nX-A: a\\r\\n  b\\r\\n\\r\\n | 400",
            "a space before the colon | GET /health HTTP/1.1\\r\\nHost : HOST\\r\\n\\r\\n | 400",
            "no Host | GET /health HTTP/1.1\\r\\n\\r\\n | 400",
            "two Hosts | GET /health HTTP/1.1\\r\\nHost: HOST\\r\\nHost: HOST\\r\\n\\r\\n | 400",
            "a Host that is not a host name | GET /health HTTP/1.1\\r\\nHost: a b/c\\r\\n\\r\\n | 400",
            "a control character in a header | GET /health HTTP/1.1\\r\\nHost: HOST\\r\\nX-A: a\\u0001b\\r\\n\\r\\n | 400",
            "an unsupported expectation | POST /tokenize HTTP/1.1\\r\\nHost: HOST\\r\\nExpect: 200-ok\\r\\nContent-Length: 2\\r\\n\\r\\n{} | 417",
            "a target that is not a path | GET health HTTP/1.1\\r\\nHost: HOST\\r\\n\\r\\n | 400",
            "a fragment in the target | GET /health#x HTTP/1.1\\r\\nHost: HOST\\r\\n\\r\\n | 400",
            "spaces in the request line | GET  /health HTTP/1.1\\r\\nHost: HOST\\r\\n\\r\\n | 400",
    })
    void malformedRequestsGetOpenAiErrorsAndAClose(String what, String request, int status) throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            // the cases are written with visible escapes (a CSV row cannot hold a line break)
            c.send(request.replace("HOST", host).replace("\\r", "\r").replace("\\n", "\n").replace("\\u0001", "\u0001"));
            RawHttp.Response r = c.read();
            openAiError(r, status);
            assertThat(r.header("Connection")).as(what).isEqualTo("close");
            assertThat(c.closedByServer()).as("%s: the connection is closed after the error", what).isTrue();
        }
        assertThat(h.get("/health").statusCode()).as("still serving after: %s", what).isEqualTo(200);
    }

    @Test
    void headersLargerThanTheLimitAre431AndALongRequestLineIs414() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send("GET /health HTTP/1.1\r\nHost: " + host + "\r\nX-Big: " + "a".repeat(5000) + "\r\n\r\n");
            openAiError(c.read(), 431);
        }
        try (var c = new RawHttp(h.server.port())) {
            c.send("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            openAiError(c.read(), 414);
        }
    }

    @Test
    void aContentLengthLargerThanTheBodyEndsWith408() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send("POST /tokenize HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 100\r\n\r\n{\"content\":");
            JsonNode error = openAiError(c.read(), 408);
            assertThat(error.get("code").asText()).isEqualTo("request_timeout");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void halfSentHeadersEndWith408AndASilentConnectionIsClosed() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send("GET /health HTTP/1.1\r\nHost: " + host + "\r\nX-Slow: "); // and nothing more
            openAiError(c.read(), 408);
            assertThat(c.closedByServer()).isTrue();
        }
        try (var c = new RawHttp(h.server.port())) {
            assertThat(c.read()).as("a connection that never sends anything is closed without an answer").isNull();
        }
        Await.until("slow connections are gone", () -> h.server.openConnections() == 0);
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAfterItsTimeout() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send("GET /health HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.closedByServer()).as("closed once idle").isTrue();
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            String tokenize = "{\"content\": \"hello\"}";
            c.send("GET /health HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
                    + "POST /tokenize HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: " + tokenize.length() + "\r\n\r\n" + tokenize
                    + "GET /v1/models HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            assertThat(c.read().body()).contains("\"ok\"");
            assertThat(c.read().body()).contains("\"tokens\"");
            RawHttp.Response models = c.read();
            assertThat(models.body()).contains(Harness.MODEL);
            assertThat(models.header("Connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void chunkedBodiesAndExpectContinueWork() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(10) + ";ext=1\r\n" + HELLO.substring(0, 10) + "\r\n"
                    + Integer.toHexString(HELLO.length() - 10) + "\r\n" + HELLO.substring(10) + "\r\n0\r\nX-Trailer: t\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("chat.completion");
        }
        try (var c = new RawHttp(h.server.port())) {
            c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: " + host + "\r\nExpect: 100-continue\r\nContent-Length: "
                    + HELLO.length() + "\r\n\r\n");
            assertThat(readLine(c.socket)).isEqualTo("HTTP/1.1 100 Continue");
            assertThat(readLine(c.socket)).isEmpty();
            c.send(HELLO);
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void anExpectContinueBodyOverTheLimitIsRefusedBeforeItIsSent() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: " + host + "\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
            JsonNode error = openAiError(c.read(), 413);
            assertThat(error.get("code").asText()).isEqualTo("request_too_large");
        }
    }

    @Test
    void aBodyOverTheLimitIsReadAndAnsweredOnAConnectionThatStaysUsable() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            String big = "{\"content\": \"" + "x".repeat(6000) + "\"}";
            c.send("POST /tokenize HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: " + big.length() + "\r\n\r\n" + big);
            openAiError(c.read(), 413);
            c.send("GET /health HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertThat(c.read().status()).as("the same connection serves the next request").isEqualTo(200);
        }
    }

    @Test
    void headRequestsGetNoBody() throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send("HEAD /health HTTP/1.1\r\nHost: " + host + "\r\n\r\n"); // 405 (GET only), with a length but no body
            String status = readLine(c.socket);
            assertThat(status).startsWith("HTTP/1.1 405");
            String line;
            int length = -1;
            while (!(line = readLine(c.socket)).isEmpty()) {
                if (line.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).strip());
                }
            }
            assertThat(length).isPositive();
            c.send("GET /health HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertThat(c.read().status()).as("the next response follows at once: no body was sent").isEqualTo(200);
        }
    }

    @Test
    void aClientThatStopsReadingIsCutOffByTheWriteTimeoutAndItsGenerationCancelled() throws Exception {
        var model = ScriptedModel.replying(400_000, (prompt, generated) -> 13755); // the same token, forever
        var limits = HttpLimits.defaults().withWriteTimeout(Duration.ofMillis(200));
        try (var s = new Harness(model, 1, 4, ServerOptions.local(0).withLimits(limits)); var socket = new Socket()) {
            socket.setReceiveBufferSize(4096); // before connecting, so that the window stays small
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", s.server.port()));
            String body = "{\"stream\": true, \"temperature\": 0, \"max_tokens\": 390000, \"messages\": [{\"role\": \"user\", \"content\": \"talk\"}]}";
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + s.server.port() + "\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            // and never read
            Await.until("the stalled stream is cut off and cancelled", () -> s.server.finishedCount("cancelled") == 1);
            assertThat(s.server.finishedCount("length")).isZero();
        }
    }

    private static String readLine(Socket s) throws Exception {
        var b = new StringBuilder();
        int c;
        while ((c = s.getInputStream().read()) >= 0 && c != '\n') {
            b.append((char) c);
        }
        return b.toString().strip();
    }
}
