package io.github.chatglm4j.server.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the coming web UI needs from the transport, through a real client: static files from the jar with their
 * content types and ETags (304 on revalidation, nothing outside the folder), a binary upload read as a stream, a
 * binary download streamed in chunks, and an event stream.
 */
class TransportTest {
    static HttpListener listener;
    static final StaticResources UI = new StaticResources(TransportTest.class.getClassLoader(), "web-test/");
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        listener = HttpListener.start(new InetSocketAddress("127.0.0.1", 0), HttpLimits.defaults(), TransportTest::handle,
                (status, message, code) -> new ErrorRenderer.Rendered("text/plain", (status + " " + message).getBytes(StandardCharsets.UTF_8)));
    }

    @AfterAll
    static void stop() {
        listener.close();
    }

    static void handle(HttpExchange ex) throws java.io.IOException {
        String path = ex.path();
        if (path.startsWith("/ui/")) {
            if (!UI.serve(ex, path.substring(4))) {
                ex.respond(404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
            }
        } else if (path.equals("/upload")) {
            var digest = sha256();
            long n = 0;
            try (InputStream in = ex.body()) {
                byte[] buf = new byte[8192];
                int r;
                while ((r = in.read(buf)) > 0) {
                    digest.update(buf, 0, r);
                    n += r;
                }
            }
            ex.respond(200, "text/plain", (n + " " + HexFormat.of().formatHex(digest.digest())).getBytes(StandardCharsets.UTF_8));
        } else if (path.equals("/download")) {
            OutputStream out = ex.stream(200, "application/octet-stream");
            for (int i = 0; i < 256; i++) {
                out.write(block(i));
                out.flush();
            }
        } else if (path.equals("/events")) {
            OutputStream out = ex.stream(200, "text/event-stream");
            for (int i = 0; i < 3; i++) {
                out.write(("data: " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } else {
            ex.respond(404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
        }
    }

    static byte[] block(int i) {
        byte[] b = new byte[4096];
        for (int k = 0; k < b.length; k++) {
            b[k] = (byte) (i * 31 + k);
        }
        return b;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listener.port() + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void staticFilesHaveTheirTypesAndRevalidateWithTheirETag() throws Exception {
        HttpResponse<byte[]> page = get("/ui/index.html");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(new String(page.body(), StandardCharsets.UTF_8)).contains("<p>hi</p>");
        String etag = page.headers().firstValue("ETag").orElseThrow();
        assertThat(get("/ui/index.html", "If-None-Match", etag).statusCode()).isEqualTo(304);
        assertThat(get("/ui/css/app.css").headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");
        for (String bad : new String[]{"/ui/../web-test/index.html", "/ui/css/../index.html", "/ui/.hidden", "/ui//index.html",
                "/ui/%2e%2e/TransportTest.class", "/ui/missing.html", "/ui/"}) {
            assertThat(get(bad).statusCode()).as(bad).isEqualTo(404);
        }
    }

    @Test
    void binaryUploadsAndDownloadsStream() throws Exception {
        byte[] upload = new byte[3 << 20];
        for (int i = 0; i < upload.length; i++) {
            upload[i] = (byte) (i * 7);
        }
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listener.port() + "/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo(upload.length + " " + HexFormat.of().formatHex(sha256().digest(upload)));

        var expected = new ByteArrayOutputStream();
        for (int i = 0; i < 256; i++) {
            expected.write(block(i));
        }
        HttpResponse<byte[]> download = get("/download");
        assertThat(download.headers().firstValue("Transfer-Encoding")).hasValue("chunked");
        assertThat(download.body()).isEqualTo(expected.toByteArray());
    }

    @Test
    void eventStreamsArriveInOrder() throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listener.port() + "/events")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("data: 0\n\ndata: 1\n\ndata: 2\n\n");
    }
}
