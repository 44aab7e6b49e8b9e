package io.github.chatglm4j.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.agent.interpreter.CodeInterpreter;
import io.github.chatglm4j.agent.interpreter.InterpreterOptions;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.agent.testing.Sandboxes;
import io.github.chatglm4j.chat.ChatMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The loop with the real sandboxed interpreter behind it. */
class AgentInterpreterTest {
    @TempDir
    Path temp;
    Path data;
    CodeInterpreter python;

    @BeforeEach
    void start() throws InterruptedException {
        data = Sandboxes.dataDir(temp);
        python = CodeInterpreter.start(Sandboxes.open(), data, InterpreterOptions.DEFAULTS);
    }

    @AfterEach
    void stop() {
        python.close();
    }

    @Test
    void theCodesOutputReturnsAsTheObservationOfTheReferencesCodeInterpreterCase() throws InterruptedException {
        // cases.json chat 6: the code-interpreter system prompt, "计算 2 的 100 次方", the model's code, and the
        // observation 2 ** 100 printed; its ids are build_chat_input's for exactly that conversation
        JsonNode chat = Fixtures.chats().get(6);
        JsonNode history = chat.get("history");
        String code = history.get(2).get("content").asText();
        ChatMessage system = Agent.systemMessage(null, true);
        assertThat(system.content()).isEqualTo(history.get(0).get("content").asText());
        ScriptedTurns model = ScriptedTurns.replies(List.of(system), "interpreter\n" + code,
                "\n2 的 100 次方是 1267650600228229401496703205376。");

        AgentTurn turn = new Agent(model, null, python, AgentOptions.DEFAULTS).send(history.get(1).get("content").asText(), AgentListener.NONE);

        assertThat(turn.rounds().getFirst().observation().content()).isEqualTo(chat.get("query").asText());
        assertThat(model.sentPrompts.get(1)).containsExactly(Fixtures.ints(chat.get("ids")));
        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.ANSWERED);
    }

    @Test
    void aFigureReachesTheUserAsPngAndTheModelAsImage() throws InterruptedException {
        ScriptedTurns model = ScriptedTurns.replies(List.of(Agent.systemMessage(null, true)),
                "interpreter\n```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint('plotted')\n```", "\nDone.");
        var results = new ArrayList<AgentEvent.Result>();

        new Agent(model, null, python, AgentOptions.DEFAULTS).send("plot", e -> {
            if (e instanceof AgentEvent.Result r) {
                results.add(r);
            }
        });

        Observation o = results.getFirst().observation();
        assertThat(o.content()).isEqualTo("plotted\n[Image]");
        assertThat(o.figures()).hasSize(1);
        assertThat(o.figures().getFirst().png()).startsWith(0x89, 'P', 'N', 'G');
    }

    @Test
    void aCancelDuringACellInterruptsItAndTheModelIsNotAskedAgain() throws Exception {
        ScriptedTurns model = ScriptedTurns.replies(List.of(Agent.systemMessage(null, true)),
                "interpreter\n```python\nimport time\nopen('/mnt/data/started', 'w').close()\ntime.sleep(600)\n```", "\nnever");
        var agent = new Agent(model, null, python, AgentOptions.DEFAULTS);
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            data.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            CompletableFuture<AgentTurn> turn = CompletableFuture.supplyAsync(() -> {
                try {
                    return agent.send("sleep", AgentListener.NONE);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitCreated(watch, "started");

            agent.cancel();

            AgentTurn t = turn.get(60, TimeUnit.SECONDS);
            assertThat(t.outcome()).isEqualTo(AgentTurn.Outcome.CANCELLED);
            assertThat(t.rounds().getFirst().observation().content()).endsWith("Cancelled: the cell was interrupted (variables and files are kept).");
            assertThat(model.sentPrompts).hasSize(1);
        }
        assertThat(python.run("'ready again'").text()).isEqualTo("'ready again'\n");
    }

    private static void awaitCreated(WatchService watch, String name) throws InterruptedException {
        while (true) {
            WatchKey key = watch.poll(60, TimeUnit.SECONDS);
            assertThat(key).as("the cell created " + name).isNotNull();
            boolean found = key.pollEvents().stream().anyMatch(e -> e.context().toString().equals(name));
            key.reset();
            if (found) {
                return;
            }
        }
    }
}
