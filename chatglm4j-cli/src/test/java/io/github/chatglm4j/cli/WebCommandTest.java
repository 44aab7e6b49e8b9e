package io.github.chatglm4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code chatglm web} serves the page and the API like serve and prints the page's address; serve prints it too. */
class WebCommandTest {
    private static final Pattern PAGE = Pattern.compile("web UI at (http://127\\.0\\.0\\.1:\\d+/)");

    @Test
    void webServesThePageAndTheApiAndPrintsThePageUrl() throws Exception {
        String page = run("web");
        assertThat(page).endsWith("/");
    }

    @Test
    void serveAlsoServesThePage() throws Exception {
        run("serve");
    }

    private static String run(String command) throws Exception {
        var out = new SignallingOutput();
        var err = new ByteArrayOutputStream();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> Main.run(new String[]{command, "-m", Cli.tiny().toString(),
                "--port", "0", "--ctx", "256", "--parallel", "1", "-t", "1"}, Io.plain(new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))));
        out.watch(exit);
        String url = out.await(PAGE, exit).group(1);
        try {
            assertThat(out.toString().lines().toList()).as("one ready line on stdout").hasSize(1);
            var http = HttpClient.newHttpClient();
            HttpResponse<String> html = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(html.statusCode()).isEqualTo(200);
            assertThat(html.body()).contains("assets/js/main.js");
            assertThat(html.headers().firstValue("Content-Security-Policy")).isPresent();
            HttpResponse<String> js = http.send(HttpRequest.newBuilder(URI.create(url + "assets/vendor/marked/marked.umd.js")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(js.statusCode()).as("the vendored libraries are in the jar").isEqualTo(200);
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(url + "v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(models.statusCode()).isEqualTo(200);
        } finally {
            ServeCommand.stopAll();
        }
        assertThat(exit.get(60, TimeUnit.SECONDS)).as("exit code; stderr: %s", err).isZero();
        return url;
    }

    @Test
    void webHasOnlyTheServeOptionsAPageNeeds() {
        Cli.Run help = Cli.run("web", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--port", "--host", "--api-key-file", "--allowed-host", "--parallel", "-m")
                .doesNotContain("--cors-origin").doesNotContain("--queue");
        Cli.Run cors = Cli.run("web", "-m", Cli.tiny().toString(), "--cors-origin", "http://x");
        assertThat(cors.exitCode()).isEqualTo(2);
    }
}
