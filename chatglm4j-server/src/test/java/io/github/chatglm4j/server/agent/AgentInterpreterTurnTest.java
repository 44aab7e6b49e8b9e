package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.agent.testing.Sandboxes;
import io.github.chatglm4j.server.ServerOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Interpreter mode with the real sandbox: the code the model writes runs in the conversation's worker, its output,
 * figures and files come back, a cell past the timeout is interrupted, uploaded files are there for the code and
 * files the code wrote can be downloaded (and nothing else).
 */
class AgentInterpreterTurnTest {
    static final String DONE = "Done.";

    @TempDir
    Path temp;
    Path root;

    @BeforeEach
    void checkSandbox() {
        Sandboxes.open(); // these tests need it: fails with what to install
        root = Sandboxes.dataDir(temp);
    }

    /** The model writes {@code code} for a user message, and answers "Done." once it has seen a result. */
    static java.util.function.Function<String, int[]> writes(Map<String, String> codeFor) {
        return prompt -> {
            if (prompt.substring(prompt.lastIndexOf("<|", prompt.length() - "<|assistant|>".length() - 1)).startsWith("<|observation|>")) {
                return AgentHarness.text(DONE);
            }
            String code = codeFor.get(AgentHarness.lastMessage(prompt));
            return code == null ? AgentHarness.text("?") : AgentHarness.code(code);
        };
    }

    ServerOptions options() {
        return ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root));
    }

    static JsonNode only(List<JsonNode> events, String type) {
        List<JsonNode> found = events.stream().filter(e -> e.get("type").asText().equals(type)).toList();
        assertThat(found).as("one " + type + " event in " + events).hasSize(1);
        return found.getFirst();
    }

    @Test
    void theReferencesCodeInterpreterCaseRunsAndItsResultIsPromptedIdForId() throws Exception {
        // cases.json chat 6: the interpreter prompt, "计算 2 的 100 次方", the model's code, and the printed number
        JsonNode chat = Fixtures.chats().get(6);
        String question = chat.get("history").get(1).get("content").asText();
        String fenced = chat.get("history").get(2).get("content").asText();
        try (var h = new AgentHarness(options(), p -> p.endsWith(question + "<|assistant|>") ? AgentHarness.call("interpreter", fenced)
                : AgentHarness.text(DONE))) {
            List<JsonNode> events = h.turn(h.conversation(), AgentHarness.body("interpreter", null, "user", question));

            assertThat(events.getFirst().toString()).isEqualTo("{\"type\":\"call_start\",\"round\":1,\"name\":\"interpreter\"}");
            JsonNode call = only(events, "call");
            assertThat(call.get("code").asText()).isEqualTo("print(2 ** 100)\n");
            assertThat(call.get("arguments").isNull()).isTrue();
            assertThat(only(events, "status").get("message").asText()).isEqualTo("running the code");
            JsonNode result = only(events, "result");
            assertThat(result.get("name").asText()).isEqualTo("interpreter");
            assertThat(result.get("observation").asText()).isEqualTo(chat.get("query").asText());
            assertThat(result.get("display").asText()).isEqualTo(chat.get("query").asText() + "\n");
            assertThat(result.get("failed").asBoolean()).isFalse();
            assertThat(h.prompts.get(1)).containsExactly(Fixtures.ints(chat.get("ids")));
            JsonNode done = events.getLast();
            assertThat(done.get("outcome").asText()).isEqualTo("answered");
            assertThat(done.get("history").get(1).get("metadata").asText()).isEqualTo("interpreter");
            assertThat(done.get("history")).extracting(m -> m.get("role").asText())
                    .containsExactly("user", "assistant", "observation", "assistant");
        }
    }

    @Test
    void aFigureArrivesAsAPng() throws Exception {
        String plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint('plotted')";
        try (var h = new AgentHarness(options(), writes(Map.of("plot it", plot)))) {
            List<JsonNode> events = h.turn(h.conversation(), AgentHarness.body("interpreter", null, "user", "plot it"));

            JsonNode result = only(events, "result");
            assertThat(result.get("observation").asText()).isEqualTo("plotted\n[Image]");
            assertThat(result.get("images")).hasSize(1);
            byte[] png = Base64.getDecoder().decode(result.get("images").get(0).asText());
            // a PNG: the signature, then the IHDR chunk with the figure's size (matplotlib's default 640x480)
            var in = new DataInputStream(new ByteArrayInputStream(png));
            assertThat(in.readLong()).isEqualTo(0x89504E470D0A1A0AL);
            assertThat(in.readInt()).isEqualTo(13);
            assertThat(in.readInt()).isEqualTo(0x49484452);
            assertThat(in.readInt()).isEqualTo(640);
            assertThat(in.readInt()).isEqualTo(480);
            assertThat(events.getLast().get("outcome").asText()).isEqualTo("answered");
        }
    }

    @Test
    void aCellPastTheTimeoutIsInterruptedAndTheModelIsTold() throws Exception {
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root).withCellTimeout(Duration.ofSeconds(1)));
        try (var h = new AgentHarness(options, writes(Map.of("wait", "import time\nx = 42\ntime.sleep(600)", "again", "x")))) {
            String id = h.conversation();
            List<JsonNode> events = h.turn(id, AgentHarness.body("interpreter", null, "user", "wait"));

            JsonNode result = only(events, "result");
            assertThat(result.get("timed_out").asBoolean()).isTrue();
            assertThat(result.get("failed").asBoolean()).isTrue();
            assertThat(result.get("restarted").asBoolean()).isFalse();
            assertThat(result.get("observation").asText()).contains("KeyboardInterrupt")
                    .endsWith("Timed out after 1 s: the cell was interrupted (variables and files are kept).");
            assertThat(events.getLast().get("outcome").asText()).isEqualTo("answered");

            List<JsonNode> next = h.turn(id, AgentHarness.body("interpreter", (ArrayNode) events.getLast().get("history"), "user", "again"));
            assertThat(only(next, "result").get("observation").asText()).as("the same worker, its variables kept").isEqualTo("42");
        }
    }

    @Test
    void anUploadedFileIsThereForTheCode() throws Exception {
        String read = "print(open('/mnt/data/data.csv').read())";
        String announcement = "#File: /mnt/data/data.csv\n#Size: 8\n#File uploaded\n";
        try (var h = new AgentHarness(options(), writes(Map.of(announcement + "What is in it?", read)))) {
            String id = h.conversation();
            HttpResponse<String> up = h.put("/api/conversations/" + id + "/files/data.csv", AgentHarness.utf8("a,b\n1,2\n"));

            assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
            assertThat(up.body()).isEqualTo("{\"name\":\"data.csv\",\"size\":8,\"path\":\"/mnt/data/data.csv\",\"announcement\":"
                    + AgentHarness.JSON.writeValueAsString(announcement) + "}");

            List<JsonNode> events = h.turn(id, AgentHarness.body("interpreter", null, "user", announcement + "What is in it?"));

            assertThat(only(events, "result").get("observation").asText()).isEqualTo("a,b\n1,2");
            assertThat(AgentHarness.json(h.get("/api/conversations/" + id + "/files")).toString())
                    .isEqualTo("{\"files\":[{\"name\":\"data.csv\",\"size\":8}]}");

            HttpResponse<String> replaced = h.put("/api/conversations/" + id + "/files/data.csv", AgentHarness.utf8("x\n"));
            assertThat(AgentHarness.json(replaced).get("size").asInt()).as("an existing file is replaced").isEqualTo(2);
        }
    }

    @Test
    void aFileTheCodeWroteCanBeDownloadedButNotWhatItsLinksPointAt() throws Exception {
        Path secret = Files.writeString(temp.resolve("secret.txt"), "a host file");
        String write = "import os\nos.makedirs('/mnt/data/out', exist_ok=True)\n"
                + "with open('/mnt/data/out/résumé \"1\".txt', 'w') as f:\n    f.write('written by the code')\n"
                + "os.symlink('" + secret + "', '/mnt/data/link')\nos.symlink('/etc/hostname', '/mnt/data/etc')";
        try (var h = new AgentHarness(options(), writes(Map.of("write", write)))) {
            String id = h.conversation();
            List<JsonNode> events = h.turn(id, AgentHarness.body("interpreter", null, "user", "write"));

            assertThat(only(events, "result").get("files").toString()).isEqualTo("[{\"name\":\"out/résumé \\\"1\\\".txt\",\"size\":19}]");
            assertThat(AgentHarness.json(h.get("/api/conversations/" + id + "/files")).toString())
                    .as("regular files only").isEqualTo("{\"files\":[{\"name\":\"out/résumé \\\"1\\\".txt\",\"size\":19}]}");

            HttpResponse<byte[]> file = h.http.send(h.request("/api/conversations/" + id + "/files/out/r%C3%A9sum%C3%A9%20%221%22.txt").GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(new String(file.body(), StandardCharsets.UTF_8)).isEqualTo("written by the code");
            assertThat(file.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
            assertThat(file.headers().firstValue("Content-Disposition"))
                    .hasValue("attachment; filename=\"r_sum_ _1_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.txt");

            for (String path : new String[]{"link", "etc", "missing.txt"}) {
                HttpResponse<String> r = h.get("/api/conversations/" + id + "/files/" + path);
                assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(404);
                assertThat(r.body()).doesNotContain("a host file");
            }
            for (String path : new String[]{"out/../../secret.txt", "..", "out//x", "%2e%2e/secret.txt"}) {
                assertThat(h.get("/api/conversations/" + id + "/files/" + path).statusCode()).as(path).isIn(400, 404);
            }
        }
    }

    @Test
    void uploadsAreBoundedAndNamedPlainly() throws Exception {
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root).withMaxUploadBytes(1000));
        try (var h = new AgentHarness(options, p -> AgentHarness.text("hi"))) {
            String id = h.conversation();
            HttpResponse<String> big = h.put("/api/conversations/" + id + "/files/big.bin", new byte[1001]);
            assertThat(AgentApiHttpTest.error(big, 413).get("code").asText()).isEqualTo("request_too_large");
            assertThat(h.put("/api/conversations/" + id + "/files/ok.bin", new byte[1000]).statusCode()).isEqualTo(201);
            for (String name : new String[]{"..", ".", "a%2Fb", "a%0Ab", "x".repeat(201)}) {
                HttpResponse<String> r = h.put("/api/conversations/" + id + "/files/" + name, AgentHarness.utf8("x"));
                assertThat(r.statusCode()).as(name + ": " + r.body()).isIn(400, 404);
            }
            assertThat(AgentHarness.json(h.get("/api/conversations/" + id + "/files")).toString())
                    .as("nothing but the one upload, no temporary file left").isEqualTo("{\"files\":[{\"name\":\"ok.bin\",\"size\":1000}]}");
        }
    }
}
