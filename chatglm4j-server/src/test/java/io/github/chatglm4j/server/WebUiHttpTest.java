package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The web UI's files over HTTP (the browser tests drive the page itself): headers, key, Host check, assets. */
class WebUiHttpTest {
    static Harness h;

    @BeforeAll
    static void start() {
        h = new Harness(ScriptedModel.replying(8192, Scripts.assistant()), 1, 4, ServerOptions.local(0).withApiKey("sekret"));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void thePageIsServedWithoutTheKeyAndWithAContentSecurityPolicy() throws Exception {
        for (String path : new String[]{"/", "/index.html"}) {
            HttpResponse<String> r = h.get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(r.body()).contains("<script type=\"module\" src=\"assets/js/main.js\"></script>");
            String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
            assertThat(csp).contains("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'")
                    .doesNotContain("unsafe-eval").doesNotContain("script-src 'self' 'unsafe-inline'");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        }
        assertThat(h.get("/v1/models").statusCode()).isEqualTo(401);
    }

    @Test
    void theVendoredLibrariesAreInTheJar() throws Exception {
        for (String path : new String[]{"/assets/js/main.js", "/assets/app.css", "/assets/vendor/marked/marked.umd.js",
                "/assets/vendor/dompurify/purify.min.js", "/assets/vendor/highlightjs/highlight.min.js",
                "/assets/vendor/highlightjs/github-dark.min.css", "/assets/vendor/katex/katex.min.js",
                "/assets/vendor/katex/katex.min.css", "/assets/vendor/katex/fonts/KaTeX_Main-Regular.woff2"}) {
            HttpResponse<String> r = h.get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(r.body()).as(path).isNotEmpty();
        }
        assertThat(h.get("/assets/js/main.js").headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(h.get("/assets/vendor/katex/fonts/KaTeX_Main-Regular.woff2").headers().firstValue("Content-Type")).hasValue("font/woff2");
    }

    @Test
    void pagePathsAreCheckedLikeEveryOtherRoute() throws Exception {
        assertThat(h.get("/assets/missing.js").statusCode()).isEqualTo(404);
        assertThat(h.get("/assets/../index.html").statusCode()).isIn(400, 404);
        assertThat(h.get("/assets/%2e%2e/WebUi.class").statusCode()).isIn(400, 404);
        assertThat(h.get("/other.html").statusCode()).isEqualTo(404);
        HttpResponse<String> post = h.post("/", "{}");
        assertThat(post.statusCode()).isEqualTo(405);
        try (var c = new RawHttp(h.server.port())) {
            RawHttp.Response rebound = c.send("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n").read();
            assertThat(rebound.status()).as("a DNS-rebinding page gets no UI").isEqualTo(403);
        }
    }

    @Test
    void theBrowserRevalidatesWithItsETag() throws Exception {
        HttpResponse<String> first = h.get("/assets/app.css");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> again = h.get("/assets/app.css", "If-None-Match", etag);
        assertThat(again.statusCode()).isEqualTo(304);
    }
}
