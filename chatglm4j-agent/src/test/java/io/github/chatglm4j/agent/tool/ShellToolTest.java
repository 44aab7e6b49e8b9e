package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.testing.Sandboxes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** get_shell runs the model's command in the sandbox, never on the host. */
class ShellToolTest {
    @TempDir
    Path temp;
    Path data;
    ToolRegistry tools;

    @BeforeEach
    void setUp() {
        Sandbox sandbox = Sandboxes.open();
        data = Sandboxes.dataDir(temp);
        tools = new ToolRegistry().add(BuiltinTools.shell(sandbox, data, Duration.ofSeconds(5)));
    }

    private ToolResult shell(String query) {
        ObjectNode args = new ObjectMapper().createObjectNode().put("query", query);
        return tools.call("get_shell", args);
    }

    @Test
    void aSuccessfulCommandGivesItsStdoutAndWorksInTheConversationsFolder() throws IOException {
        ToolResult r = shell("pwd; echo hello > note.txt; cat note.txt; id -u");

        assertThat(r).isEqualTo(new ToolResult("/mnt/data\nhello\n65534\n", false));
        assertThat(Files.readString(data.resolve("note.txt"))).isEqualTo("hello\n");
    }

    @Test
    void aFailingCommandGivesItsStderrAsTheReferenceDoes() {
        ToolResult r = shell("echo out; cat /etc/shadow");

        assertThat(r.text()).isEqualTo("cat: /etc/shadow: No such file or directory\n");
    }

    @Test
    void theHostIsOutOfReach() {
        String marker = "chatglm4j-shell-" + UUID.randomUUID();

        ToolResult r = shell("touch /tmp/" + marker + "; ls " + Path.of("").toAbsolutePath() + " 2>&1; ls /root 2>&1; "
                + "(getent hosts localhost || echo no-resolver); exit 0");

        assertThat(r.text()).contains("No such file or directory").contains("no-resolver");
        assertThat(Path.of("/tmp", marker)).doesNotExist();
    }

    @Test
    void aCommandThatRunsTooLongIsKilled() {
        ToolResult r = shell("sleep 600");

        assertThat(r.text()).isEqualTo("Timed out after 5 s: the command was killed.");
    }

    @Test
    void whereTheSandboxCannotRunTheToolSaysWhy() {
        var unavailable = new ToolRegistry().add(BuiltinTools.shellUnavailable("bubblewrap is not installed"));

        ToolResult r = unavailable.call("get_shell", new ObjectMapper().createObjectNode().put("query", "ls"));

        assertThat(r.text()).isEqualTo("get_shell is not available: bubblewrap is not installed");
    }
}
