package io.github.chatglm4j.agent;

import io.github.chatglm4j.agent.interpreter.Cancellation;
import io.github.chatglm4j.agent.testing.Reference;
import io.github.chatglm4j.agent.testing.Reference.Turn;
import io.github.chatglm4j.agent.tool.BuiltinTools;
import io.github.chatglm4j.agent.tool.ToolRegistry;
import io.github.chatglm4j.agent.tool.WeatherService;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.ReplySplitter;
import io.github.chatglm4j.chat.Role;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent loop with a scripted model. Prompts go through the real PromptBuilder and are compared, id for id, with
 * the reference's build_chat_input written out independently ({@link Reference}).
 */
class AgentLoopTest {
    private static final String QUESTION = "What is the weather in Beijing? Then pick a random number.";
    private static final String WEATHER_CALL = "```python\ntool_call(city_name='Beijing')\n```";
    private static final String RANDOM_CALL = "```python\ntool_call(seed=42, range=(0, 100))\n```";
    private static final String ANSWER = "The weather service is off here; your random number is 81.";
    /** BuiltinTools' reply when get_weather is off (WeatherService.DISABLED). */
    private static final String WEATHER_OFF = "Weather lookups are turned off here: they send the city name to "
            + "https://wttr.in, which the operator has not allowed.";

    private static ToolRegistry referenceTools() {
        return new ToolRegistry().add(BuiltinTools.randomNumberGenerator()).add(BuiltinTools.weather(WeatherService.DISABLED));
    }

    private static Turn system() {
        return Turn.of("system", Reference.FUNCTION_CALL_TXT);
    }

    /** Two tool rounds, then an answer, as the model emits them after {@code <|assistant|>} (metadata line first). */
    private static ScriptedTurns twoToolsThenAnswer(ToolRegistry tools) {
        return ScriptedTurns.replies(List.of(tools.systemMessage()),
                "get_weather\n" + WEATHER_CALL, "random_number_generator\n" + RANDOM_CALL, "\n" + ANSWER);
    }

    @Test
    void twoToolRoundsThenAnAnswerWithEveryPromptInTheReferenceFormat() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        ScriptedTurns model = twoToolsThenAnswer(tools);
        var events = new ArrayList<AgentEvent>();

        AgentTurn turn = new Agent(model, tools, null, AgentOptions.DEFAULTS).send(QUESTION, events::add);

        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.ANSWERED);
        assertThat(turn.answer()).isEqualTo(ANSWER);
        assertThat(turn.rounds()).extracting(r -> r.observation() == null ? null : r.observation().content())
                .containsExactly(WEATHER_OFF, "81", null);
        List<Turn> expected = new ArrayList<>(List.of(system(), Turn.of("user", QUESTION)));
        assertThat(model.sentPrompts.get(0)).containsExactly(Reference.buildChatInput(expected));
        expected.add(new Turn("assistant", "get_weather", WEATHER_CALL));
        expected.add(Turn.of("observation", WEATHER_OFF));
        assertThat(model.sentPrompts.get(1)).containsExactly(Reference.buildChatInput(expected));
        expected.add(new Turn("assistant", "random_number_generator", RANDOM_CALL));
        expected.add(Turn.of("observation", "81"));
        assertThat(model.sentPrompts.get(2)).containsExactly(Reference.buildChatInput(expected));
        assertThat(model.sentPrompts).hasSize(3);
    }

    @Test
    void everyStepIsStreamedInOrder() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        var events = new ArrayList<AgentEvent>();

        new Agent(twoToolsThenAnswer(tools), tools, null, AgentOptions.DEFAULTS).send(QUESTION, events::add);

        var steps = new ArrayList<String>();
        var text = new StringBuilder();
        for (AgentEvent e : events) {
            if (e instanceof AgentEvent.Reply(int round, ReplySplitter.Part part)) {
                switch (part) {
                    case ReplySplitter.Part.Text t -> text.append(t.text());
                    case ReplySplitter.Part.Code c -> text.append(c.text());
                    case ReplySplitter.Part.Call c -> steps.add("reply " + round + " calls " + c.name());
                }
                continue;
            }
            if (!text.isEmpty()) {
                steps.add("text " + text);
                text.setLength(0);
            }
            steps.add(switch (e) {
                case AgentEvent.Call c when c.call() instanceof AssistantReply.ToolCall call ->
                        "call " + c.round() + " " + call.name() + " " + call.arguments();
                case AgentEvent.Call c -> "call " + c.round() + " " + c.call();
                case AgentEvent.Status s -> "status " + s.round() + " " + s.message();
                case AgentEvent.Result r -> "result " + r.round() + " " + r.observation().content();
                case AgentEvent.Finished f -> "finished " + f.turn().outcome();
                case AgentEvent.Reply r -> throw new AssertionError();
            });
        }
        assertThat(steps).containsExactly(
                "reply 1 calls get_weather",
                "text " + WEATHER_CALL,
                "call 1 get_weather {\"city_name\":\"Beijing\"}",
                "status 1 calling get_weather",
                "result 1 " + WEATHER_OFF,
                "reply 2 calls random_number_generator",
                "text " + RANDOM_CALL,
                "call 2 random_number_generator {\"seed\":42,\"range\":[0,100]}",
                "status 2 calling random_number_generator",
                "result 2 81",
                "text " + ANSWER,
                "finished ANSWERED");
    }

    @Test
    void withManualCallsTheTurnEndsAtTheCallAndTheUsersObservationContinuesIt() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()), "get_weather\n" + WEATHER_CALL, "\n" + ANSWER);
        var agent = new Agent(model, tools, null, AgentOptions.DEFAULTS.withManualCalls(true));
        var events = new ArrayList<AgentEvent>();

        AgentTurn first = agent.send(QUESTION, events::add);

        assertThat(first.outcome()).isEqualTo(AgentTurn.Outcome.AWAITING_OBSERVATION);
        assertThat(first.rounds()).hasSize(1);
        assertThat(first.rounds().getFirst().observation()).as("nothing ran").isNull();
        assertThat(events).noneMatch(e -> e instanceof AgentEvent.Result || e instanceof AgentEvent.Status);

        AgentTurn second = agent.send(ChatMessage.observation("sunny, 25 degrees"), AgentListener.NONE);

        assertThat(second.outcome()).isEqualTo(AgentTurn.Outcome.ANSWERED);
        assertThat(model.sentPrompts.get(1)).containsExactly(Reference.buildChatInput(List.of(system(), Turn.of("user", QUESTION),
                new Turn("assistant", "get_weather", WEATHER_CALL), Turn.of("observation", "sunny, 25 degrees"))));
    }

    @Test
    void aCancelBeforeTheTurnStartsEndsItWithoutAskingTheModel() throws InterruptedException {
        ScriptedTurns model = ScriptedTurns.replies(List.of(), "\nnever");
        var cancel = new Cancellation();
        cancel.cancel();

        AgentTurn turn = new Agent(model, null, null, AgentOptions.DEFAULTS).send(ChatMessage.user("hi"), AgentListener.NONE, cancel);

        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.CANCELLED);
        assertThat(turn.rounds()).isEmpty();
        assertThat(model.sentPrompts).isEmpty();
    }

    @Test
    void theHistoryKeepsToolNamesSoAReplayedConversationPromptsTheModelAsTrained() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        var first = new Agent(twoToolsThenAnswer(tools), tools, null, AgentOptions.DEFAULTS);
        first.send(QUESTION, AgentListener.NONE);
        List<ChatMessage> saved = first.history();

        // a new session rebuilt from the saved history, as a server or a reloaded page would
        ScriptedTurns replay = ScriptedTurns.replies(saved, "\nYou are welcome.");
        new Agent(replay, tools, null, AgentOptions.DEFAULTS).send("Thanks!", AgentListener.NONE);

        assertThat(saved).filteredOn(m -> m.role() == Role.ASSISTANT).extracting(ChatMessage::metadata)
                .containsExactly("get_weather", "random_number_generator", "");
        assertThat(replay.sentPrompts.getFirst()).containsExactly(Reference.buildChatInput(List.of(system(),
                Turn.of("user", QUESTION),
                new Turn("assistant", "get_weather", WEATHER_CALL), Turn.of("observation", WEATHER_OFF),
                new Turn("assistant", "random_number_generator", RANDOM_CALL), Turn.of("observation", "81"),
                Turn.of("assistant", ANSWER), Turn.of("user", "Thanks!"))));
    }

    @Test
    void theModelGetsAtMostFiveTurnsPerMessageAndTheLastCallIsNotRun() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        var model = new ScriptedTurns(List.of(tools.systemMessage()),
                (n, prompt) -> "random_number_generator\n```python\ntool_call(seed=" + n + ", range=(0, 9))\n```");
        var events = new ArrayList<AgentEvent>();

        AgentTurn turn = new Agent(model, tools, null, AgentOptions.DEFAULTS).send("Keep drawing numbers", events::add);

        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.ROUND_LIMIT);
        assertThat(model.sentPrompts).hasSize(5);
        assertThat(turn.rounds()).hasSize(5);
        assertThat(turn.rounds().subList(0, 4)).allMatch(r -> r.observation() != null);
        assertThat(turn.rounds().get(4).observation()).isNull();
        assertThat(events).filteredOn(e -> e instanceof AgentEvent.Result).hasSize(4);
        assertThat(events).anyMatch(e -> e instanceof AgentEvent.Status s
                && s.message().equals("round limit reached (5 model turns per message): the last call was not run"));
    }

    @Test
    void anUnknownToolIsToldToTheModelInTheReferencesWords() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()),
                "get_stock\n```python\ntool_call(symbol='10111')\n```", "\nI cannot look up stocks.");

        AgentTurn turn = new Agent(model, tools, null, AgentOptions.DEFAULTS).send("Price of 10111?", AgentListener.NONE);

        String unknown = "Tool `get_stock` not found. Please use a provided tool.";
        assertThat(turn.rounds().getFirst().observation().content()).isEqualTo(unknown);
        assertThat(turn.rounds().getFirst().observation().failed()).isTrue();
        assertThat(model.sentPrompts.get(1)).containsExactly(Reference.buildChatInput(List.of(system(),
                Turn.of("user", "Price of 10111?"),
                new Turn("assistant", "get_stock", "```python\ntool_call(symbol='10111')\n```"),
                Turn.of("observation", unknown))));
        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.ANSWERED);
    }

    @Test
    void aMalformedCallIsReportedToTheModelSoItCanTryAgain() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()),
                "get_weather\n```python\ntool_call(city_name='Beij)\n```", "get_weather\n" + WEATHER_CALL, "\nDone.");
        var events = new ArrayList<AgentEvent>();

        AgentTurn turn = new Agent(model, tools, null, AgentOptions.DEFAULTS).send(QUESTION, events::add);

        assertThat(events).anyMatch(e -> e instanceof AgentEvent.Call c && c.call() instanceof AssistantReply.MalformedToolCall);
        assertThat(turn.rounds().getFirst().observation().content())
                .startsWith("Failed to parse tool call: cannot read the call to get_weather: ");
        assertThat(turn.rounds().get(1).observation().content()).isEqualTo(WEATHER_OFF);
        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.ANSWERED);
    }

    @Test
    void aLongResultIsCutTo1024CharactersPlusTruncated() throws InterruptedException {
        // characters as Python counts them: an emoji is one, though two UTF-16 units in Java
        var tools = new ToolRegistry().add("dump", "", List.of(), a -> "👋".repeat(3000));
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()), "dump\n```python\ntool_call()\n```", "\nok");

        AgentTurn turn = new Agent(model, tools, null, AgentOptions.DEFAULTS).send("dump it", AgentListener.NONE);

        Observation o = turn.rounds().getFirst().observation();
        assertThat(o.content()).isEqualTo("👋".repeat(1024) + " [TRUNCATED]");
        assertThat(o.display()).isEqualTo("👋".repeat(3000));
    }

    @Test
    void aToolThatHangsIsStoppedAtTheTimeoutAndTheModelIsTold() throws InterruptedException {
        var interrupted = new CountDownLatch(1);
        var tools = new ToolRegistry().add("hang", "", List.of(), a -> {
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
            return "never";
        });
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()), "hang\n```python\ntool_call()\n```", "\nok");

        AgentTurn turn = new Agent(model, tools, null, AgentOptions.DEFAULTS.withToolTimeout(Duration.ofSeconds(1)))
                .send("go", AgentListener.NONE);

        assertThat(turn.rounds().getFirst().observation().content()).isEqualTo("Tool `hang` did not answer within 1 s and was stopped.");
        assertThat(interrupted.await(30, TimeUnit.SECONDS)).as("the tool's thread was interrupted").isTrue();
        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.ANSWERED);
    }

    @Test
    void aCancelWhileTheModelWritesEndsTheTurn() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        ScriptedTurns model = twoToolsThenAnswer(tools);
        var agent = new Agent(model, tools, null, AgentOptions.DEFAULTS);

        AgentTurn turn = agent.send(QUESTION, e -> {
            if (e instanceof AgentEvent.Reply) {
                agent.cancel();
            }
        });

        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.CANCELLED);
        assertThat(model.sentPrompts).hasSize(1);
        assertThat(turn.rounds().getFirst().reply().rawText()).as("the first part is the call's name line").isEqualTo("get_weather\n");
    }

    @Test
    void aCancelWhileAToolRunsStopsItAndNothingIsSentToTheModel() throws Exception {
        var running = new CountDownLatch(1);
        var interrupted = new CountDownLatch(1);
        var tools = new ToolRegistry().add("slow", "", List.of(), a -> {
            running.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
            }
            return "never";
        });
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()), "slow\n```python\ntool_call()\n```", "\nok");
        var agent = new Agent(model, tools, null, AgentOptions.DEFAULTS);
        CompletableFuture<AgentTurn> turn = CompletableFuture.supplyAsync(() -> {
            try {
                return agent.send("go", AgentListener.NONE);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        assertThat(running.await(60, TimeUnit.SECONDS)).as("the tool started").isTrue();
        agent.cancel();

        assertThat(turn.get(60, TimeUnit.SECONDS).outcome()).isEqualTo(AgentTurn.Outcome.CANCELLED);
        assertThat(model.sentPrompts).hasSize(1);
        assertThat(interrupted.await(60, TimeUnit.SECONDS)).as("the tool's thread was interrupted").isTrue();
    }

    @Test
    void aCancelBeforeTheToolStartsMeansItNeverRuns() throws InterruptedException {
        var ran = new java.util.concurrent.atomic.AtomicBoolean();
        var tools = new ToolRegistry().add("never", "", List.of(), a -> {
            ran.set(true);
            return "ran";
        });
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()), "never\n```python\ntool_call()\n```", "\nok");
        var agent = new Agent(model, tools, null, AgentOptions.DEFAULTS);

        AgentTurn turn = agent.send("go", e -> {
            if (e instanceof AgentEvent.Status) { // just before the tool is started
                agent.cancel();
            }
        });

        assertThat(turn.outcome()).isEqualTo(AgentTurn.Outcome.CANCELLED);
        assertThat(turn.rounds().getFirst().observation().content()).isEqualTo("Tool `never` was stopped.");
        assertThat(model.sentPrompts).hasSize(1);
        assertThat(ran).isFalse();
    }

    @Test
    void codeWithoutAnInterpreterIsRefusedToTheModel() throws InterruptedException {
        ToolRegistry tools = referenceTools();
        ScriptedTurns model = ScriptedTurns.replies(List.of(tools.systemMessage()),
                "interpreter\n```python\nprint(1)\n```", "\nok");

        AgentTurn turn = new Agent(model, tools, null, AgentOptions.DEFAULTS).send("run it", AgentListener.NONE);

        assertThat(turn.rounds().getFirst().observation().content())
                .isEqualTo("The code interpreter is not enabled here, so the code was not run.");
    }
}
