package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code chatglm serve} in-process on the tiny model: ready line, health, models, a keyed chat, clean stop. */
class ServeCommandTest {
    private static final Pattern URL = Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+/v1)");

    @Test
    void servesTheModelUntilStopped() throws Exception {
        var out = new SignallingOutput();
        var err = new ByteArrayOutputStream();
        var o = new PrintStream(out, true, StandardCharsets.UTF_8);
        var e = new PrintStream(err, true, StandardCharsets.UTF_8);
        java.nio.file.Path keyFile = java.nio.file.Files.createTempFile("chatglm-key", ".txt");
        java.nio.file.Files.writeString(keyFile, "k\n");
        java.nio.file.Path dataRoot = java.nio.file.Files.createTempDirectory("chatglm-serve-test");
        // searchable: as root, the sandbox runs as nobody and reaches the conversations' folders through it
        java.nio.file.Files.setPosixFilePermissions(dataRoot, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> Main.run(new String[]{"serve", "-m", Cli.tiny().toString(),
                "--port", "0", "--ctx", "256", "--parallel", "2", "--api-key-file", keyFile.toString(), "--allowed-host", "ui.lan",
                "-t", "1", "--data-root", dataRoot.toString(), "--max-workers", "2", "--worker-idle", "90s", "--max-upload", "1K"},
                Io.plain(new ByteArrayInputStream(new byte[0]), o, e)));
        out.watch(exit);
        String base = out.await(URL, exit).group(1);
        try {
            assertThat(out.toString().lines().toList()).as("one ready line on stdout").hasSize(1);
            var http = HttpClient.newHttpClient();
            String root = base.substring(0, base.length() - "/v1".length());
            assertThat(http.send(HttpRequest.newBuilder(URI.create(root + "/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(200);
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(base + "/models")).header("Authorization", "Bearer k").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(Cli.json(models.body()).get("data").get(0).get("id").asText()).as("default alias: the directory name").isEqualTo("tiny-chatglm3");
            HttpResponse<String> unauthorized = http.send(HttpRequest.newBuilder(URI.create(base + "/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(unauthorized.statusCode()).isEqualTo(401);
            HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(base + "/chat/completions")).header("Authorization", "Bearer k")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"你好\"}], \"max_tokens\": 4, \"temperature\": 0}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            JsonNode usage = Cli.json(chat.body()).get("usage");
            assertThat(usage.get("prompt_tokens").asInt()).as("[gMASK] sop <|user|> ▁ \\n ▁你 好 <|assistant|>").isEqualTo(8);

            // the agent API: facts without the key, a conversation with it, its file in --data-root
            JsonNode info = Cli.json(http.send(HttpRequest.newBuilder(URI.create(root + "/api/info")).build(), HttpResponse.BodyHandlers.ofString()).body());
            assertThat(info.get("auth").asBoolean()).isTrue();
            assertThat(info.get("max_upload").asInt()).isEqualTo(1024);
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(root + "/api/conversations")).header("Authorization", "Bearer k")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            String id = Cli.json(created.body()).get("id").asText();
            HttpResponse<String> upload = http.send(HttpRequest.newBuilder(URI.create(root + "/api/conversations/" + id + "/files/a.txt"))
                    .header("Authorization", "Bearer k").PUT(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(upload.statusCode()).as(upload.body()).isEqualTo(201);
            assertThat(dataRoot.resolve(id).resolve("a.txt")).hasContent("hello");
        } finally {
            ServeCommand.stopAll();
        }
        assertThat(exit.get(60, TimeUnit.SECONDS)).as("exit code; stderr: %s", err).isZero();
        assertThat(err.toString()).as("no warning for a key from a file").doesNotContain("visible");
        assertThat(err.toString()).contains("chatglm: agent API: the code interpreter and get_shell ");
        try (var left = java.nio.file.Files.list(dataRoot)) {
            assertThat(left).as("the conversations' folders are deleted at stop").isEmpty();
        }
        java.nio.file.Files.delete(dataRoot);
        java.nio.file.Files.delete(keyFile);
    }

    @Test
    void keyAndHostMistakesAreOneLineErrors() {
        Cli.Run both = Cli.run("serve", "-m", Cli.tiny().toString(), "--api-key", "k", "--api-key-file", "/nonexistent");
        assertThat(both.exitCode()).as("%s", both).isEqualTo(2);
        assertThat(both.err()).contains("either --api-key or --api-key-file");
        Cli.Run missing = Cli.run("serve", "-m", Cli.tiny().toString(), "--api-key-file", "/nonexistent/key");
        assertThat(missing.exitCode()).as("%s", missing).isEqualTo(1);
        assertThat(missing.errLines()).hasSize(1);
        assertThat(missing.err()).contains("--api-key-file");
        Cli.Run badHost = Cli.run("serve", "-m", Cli.tiny().toString(), "--port", "0", "--allowed-host", "a b");
        assertThat(badHost.exitCode()).as("%s", badHost).isEqualTo(1);
        assertThat(badHost.errLines()).hasSize(1);
        assertThat(badHost.err()).contains("'a b'");
    }

    @Test
    void badOptionsAreUsageErrors() {
        Cli.Run run = Cli.run("serve", "-m", Cli.tiny().toString(), "--parallel", "0");
        assertThat(run.exitCode()).as("%s", run).isEqualTo(2);
        assertThat(run.err()).contains("--parallel");
        String[][] bad = {{"--max-workers", "0"}, {"--worker-idle", "0"}, {"--worker-idle", "10 minutes"}, {"--conversation-idle", "-1h"},
                {"--max-upload", "64X"}, {"--max-upload", "4G"}, {"--cell-timeout", "0"}, {"--max-rounds", "0"}};
        for (String[] option : bad) {
            Cli.Run r = Cli.run("serve", "-m", Cli.tiny().toString(), option[0], option[1]);
            assertThat(r.exitCode()).as("%s", r).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", option)).contains(option[0]);
        }
    }

    @Test
    void durationsAndSizesReadAsTheHelpSays() {
        var durations = new AgentApiFlags.DurationConverter();
        assertThat(durations.convert("90s")).isEqualTo(java.time.Duration.ofSeconds(90));
        assertThat(durations.convert("90")).isEqualTo(java.time.Duration.ofSeconds(90));
        assertThat(durations.convert("10m")).isEqualTo(java.time.Duration.ofMinutes(10));
        assertThat(durations.convert("24h")).isEqualTo(java.time.Duration.ofHours(24));
        assertThat(durations.convert("2d")).isEqualTo(java.time.Duration.ofDays(2));
        var sizes = new AgentApiFlags.SizeConverter();
        assertThat(sizes.convert("1000")).isEqualTo(1000L);
        assertThat(sizes.convert("500K")).isEqualTo(500L << 10);
        assertThat(sizes.convert("64M")).isEqualTo(64L << 20);
        assertThat(sizes.convert("64MiB")).isEqualTo(64L << 20);
        assertThat(sizes.convert("1g")).isEqualTo(1L << 30);
    }

    @Test
    void aTakenPortIsAOneLineError() throws Exception {
        try (var taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Cli.Run run = Cli.run("serve", "-m", Cli.tiny().toString(), "--port", String.valueOf(taken.getLocalPort()));
            assertThat(run.exitCode()).as("%s", run).isEqualTo(1);
            assertThat(run.errLines()).hasSize(1);
            assertThat(run.err()).startsWith("chatglm: cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }
}
