package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A web page the user visits must not drive the local server (issue 10, item 6): a cross-site POST is refused
 * before it runs, whatever its content type (CORS only hides replies), and a Host the server does not answer to,
 * which is what a DNS-rebinding page sends, is refused for every request. No DNS is involved: the Host header is
 * what the browser would send.
 */
class OriginAndHostTest {
    static final int[] REPLY = Harness.textReply("Hello there", ChatGLMTokenizer.EOS);
    static final String HELLO = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 3}";

    static RawHttp.Response request(Harness h, String method, String path, String host, String origin, String contentType,
                                    String body) throws Exception {
        try (var c = new RawHttp(h.server.port())) {
            c.send(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                    + (origin == null ? "" : "Origin: " + origin + "\r\n")
                    + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                    + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
            return c.read();
        }
    }

    @Test
    void aCrossSiteSimplePostIsRefusedBeforeItRuns() throws Exception {
        var model = ScriptedModel.replying(256, ScriptedModel.fixed(REPLY));
        try (var h = new Harness(model, 1, 4, ServerOptions.local(0).withCorsOrigins(List.of("http://ui.example")))) {
            String host = "127.0.0.1:" + h.server.port();
            for (String type : new String[]{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json"}) {
                RawHttp.Response r = request(h, "POST", "/v1/chat/completions", host, "http://evil.example", type, HELLO);
                JsonNode error = HttpProtocolTest.openAiError(r, 403);
                assertThat(error.get("code").asText()).isEqualTo("cors_origin_not_allowed");
                assertThat(r.header("Access-Control-Allow-Origin")).isNull();
            }
            assertThat(HttpProtocolTest.openAiError(request(h, "POST", "/v1/chat/completions", host, "null", "text/plain", HELLO), 403)).isNotNull();
            assertThat(model.tokensFed.get()).as("nothing was generated for the refused requests").isZero();

            assertThat(request(h, "POST", "/v1/chat/completions", host, "http://ui.example", "application/json", HELLO).status())
                    .as("an allowed origin").isEqualTo(200);
            assertThat(request(h, "POST", "/v1/chat/completions", host, "http://" + host, "application/json", HELLO).status())
                    .as("the server's own origin (a page it serves)").isEqualTo(200);
            assertThat(request(h, "POST", "/v1/chat/completions", host, null, "application/json", HELLO).status())
                    .as("no Origin: not a browser page").isEqualTo(200);
            assertThat(request(h, "GET", "/v1/models", host, "http://evil.example", null, "").status())
                    .as("a cross-site GET runs (it changes nothing), its reply stays hidden from the page").isEqualTo(200);
        }
    }

    @ParameterizedTest(name = "Host {0}: {1}")
    @CsvSource({
            "127.0.0.1:PORT, 200", "localhost:PORT, 200", "[::1]:PORT, 200", "LOCALHOST:PORT, 200",
            "evil.example:PORT, 403", "evil.example, 403", "127.0.0.1.evil.example:PORT, 403", "localhost:1, 403",
            "127.0.0.1:1, 403", "ui.lan:PORT, 200", "ui.lan:9, 200", "proxy.lan:PORT, 403", "proxy.lan:8443, 200",
    })
    void onlyHostsNamingThisServerAreAnswered(String hostHeader, int status) throws Exception {
        var options = ServerOptions.local(0).withAllowedHosts(List.of("ui.lan", "proxy.lan:8443"));
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(REPLY)), 1, 4, options)) {
            String host = hostHeader.replace("PORT", Integer.toString(h.server.port()));
            for (String[] req : new String[][]{{"GET", "/health", ""}, {"GET", "/v1/models", ""}, {"POST", "/v1/chat/completions", HELLO}}) {
                RawHttp.Response r = request(h, req[0], req[1], host, null, "application/json", req[2]);
                if (status == 200) {
                    assertThat(r.status()).as("%s %s with Host %s", req[0], req[1], host).isEqualTo(200);
                } else {
                    JsonNode error = HttpProtocolTest.openAiError(r, 403);
                    assertThat(error.get("code").asText()).isEqualTo("host_not_allowed");
                }
            }
        }
    }

    @Test
    void anAbsoluteTargetNamesTheHostThatIsChecked() throws Exception {
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(REPLY)))) {
            String own = "127.0.0.1:" + h.server.port();
            try (var c = new RawHttp(h.server.port())) {
                c.send("GET http://evil.example:" + h.server.port() + "/health HTTP/1.1\r\nHost: " + own + "\r\n\r\n");
                HttpProtocolTest.openAiError(c.read(), 403);
            }
            try (var c = new RawHttp(h.server.port())) {
                c.send("GET http://" + own + "/health HTTP/1.1\r\nHost: " + own + "\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
            }
        }
    }

    @Test
    void boundToEveryInterfaceAnyAddressLiteralIsAnsweredButNoForeignName() {
        var policy = new HostPolicy("0.0.0.0", List.of(), () -> 8000);
        assertThat(policy.allows("192.168.1.20:8000")).isTrue();
        assertThat(policy.allows("[fe80::1]:9000")).isTrue();
        assertThat(policy.allows("localhost:8000")).isTrue();
        assertThat(policy.allows("evil.example:8000")).isFalse();
        assertThat(policy.allows("my-box.lan:8000")).as("a name needs --allowed-host").isFalse();
        assertThat(new HostPolicy("0.0.0.0", List.of("my-box.lan"), () -> 8000).allows("my-box.lan:8000")).isTrue();
        assertThat(new HostPolicy("127.0.0.1", List.of("*"), () -> 8000).allows("anything.example")).isTrue();
    }
}
