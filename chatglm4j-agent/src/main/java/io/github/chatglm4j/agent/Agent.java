package io.github.chatglm4j.agent;

import io.github.chatglm4j.ChatReply;
import io.github.chatglm4j.agent.interpreter.Cancellation;
import io.github.chatglm4j.agent.interpreter.CellResult;
import io.github.chatglm4j.agent.interpreter.CodeInterpreter;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;
import io.github.chatglm4j.agent.tool.ToolRegistry;
import io.github.chatglm4j.agent.tool.ToolResult;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.ReplySplitter;
import io.github.chatglm4j.chat.Role;
import io.github.chatglm4j.generate.FinishReason;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * ChatGLM3's agent loop, as the reference composite demo runs it: a user message, then model turn, call, result as
 * an observation, model turn ... until the model answers in text, for at most {@link AgentOptions#maxRounds()} model
 * turns. Tool calls go to the {@link ToolRegistry}, code to the {@link CodeInterpreter}; whatever goes wrong becomes a
 * result the model reads. The history keeps every call with its tool name, so later turns (and a conversation rebuilt
 * from {@link #history()}) show the model its own calls as it was trained.
 *
 * <pre>{@code
 * ToolRegistry tools = BuiltinTools.registry(WeatherService.DISABLED, BuiltinTools.shell(sandbox, dataDir, Duration.ofSeconds(30)));
 * ChatSession session = glm.newChat(List.of(Agent.systemMessage(tools, false)));
 * var agent = new Agent(new SessionTurns(session, options), tools, null, AgentOptions.DEFAULTS);
 * AgentTurn turn = agent.send("生成一个随机数", event -> System.out.println(event));
 * }</pre>
 * One turn at a time; {@link #cancel()} may be called from any thread.
 */
public final class Agent {
    private final TurnGenerator model;
    private final ToolRegistry tools;
    private final CodeInterpreter interpreter;
    private final AgentOptions options;
    private final ExecutorService toolThreads = Executors.newVirtualThreadPerTaskExecutor();
    private volatile Cancellation current = new Cancellation();

    /**
     * @param tools       the tools the model may call, or null for none
     * @param interpreter where code runs, or null when the code interpreter is off
     */
    public Agent(TurnGenerator model, ToolRegistry tools, CodeInterpreter interpreter, AgentOptions options) {
        this.model = Objects.requireNonNull(model, "model");
        this.tools = tools == null ? new ToolRegistry() : tools;
        this.interpreter = interpreter;
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * The system message for tools and/or the code interpreter: the prompt ChatGLM3 was trained with for each (tools:
     * {@link ToolRegistry#TOOLS_PROMPT} and the tools as JSON; code: {@link CodeInterpreter#SYSTEM_PROMPT}). With both,
     * the code prompt comes first and the tools follow; the model was trained on each alone.
     */
    public static ChatMessage systemMessage(ToolRegistry tools, boolean codeInterpreter) {
        boolean withTools = tools != null && !tools.isEmpty();
        if (withTools && codeInterpreter) {
            return ChatMessage.system(CodeInterpreter.SYSTEM_PROMPT + "\n" + ToolRegistry.TOOLS_PROMPT, tools.promptTools());
        }
        if (withTools) {
            return tools.systemMessage();
        }
        if (codeInterpreter) {
            return ChatMessage.system(CodeInterpreter.SYSTEM_PROMPT);
        }
        throw new IllegalArgumentException("an agent needs tools or the code interpreter");
    }

    /** The conversation so far, with each call's metadata. */
    public List<ChatMessage> history() {
        return model.history();
    }

    /** Stops the running turn: generation ends, a running cell is interrupted, a running tool is stopped. */
    public void cancel() {
        current.cancel();
    }

    /**
     * Runs one user message to its end, streaming every step to {@code listener}.
     *
     * @throws InterruptedException if this thread is interrupted while a call runs
     */
    public AgentTurn send(String userText, AgentListener listener) throws InterruptedException {
        return send(ChatMessage.user(userText), listener);
    }

    /**
     * Runs one message to its end: a user message, or an observation with the result of the call the previous turn
     * ended at (with {@link AgentOptions#manualCalls()}, the caller supplies results this way).
     *
     * @throws IllegalArgumentException if the message is neither from the user nor an observation
     * @throws InterruptedException     if this thread is interrupted while a call runs
     */
    public AgentTurn send(ChatMessage first, AgentListener listener) throws InterruptedException {
        return send(first, listener, new Cancellation());
    }

    /**
     * As {@link #send(ChatMessage, AgentListener)}, stopped by {@code cancel} as by {@link #cancel()}. A cancel that
     * comes before the turn starts is not lost: the turn then ends at once with outcome {@code CANCELLED} and nothing
     * sent, so another thread can stop a turn it is about to start.
     */
    public AgentTurn send(ChatMessage first, AgentListener listener, Cancellation cancel) throws InterruptedException {
        if (first.role() != Role.USER && first.role() != Role.OBSERVATION) {
            throw new IllegalArgumentException("a turn starts with a user message or an observation, not " + first.role().wireName());
        }
        current = cancel;
        var rounds = new ArrayList<AgentTurn.Round>();
        if (cancel.isCancelled()) {
            return finish(rounds, null, AgentTurn.Outcome.CANCELLED, listener); // nothing was sent
        }
        ChatMessage message = first;
        for (int round = 1; ; round++) {
            int r = round;
            var splitter = new ReplySplitter();
            ChatReply reply = model.send(message, (id, text) -> splitter.push(text)
                    .forEach(part -> listener.on(new AgentEvent.Reply(r, part))), cancel::isCancelled);
            splitter.finish().forEach(part -> listener.on(new AgentEvent.Reply(r, part)));
            if (reply.finishReason() == FinishReason.CANCELLED || cancel.isCancelled()) {
                rounds.add(new AgentTurn.Round(reply, null));
                return finish(rounds, null, AgentTurn.Outcome.CANCELLED, listener);
            }
            AssistantReply call = reply.reply();
            if (call instanceof AssistantReply.Text text) {
                rounds.add(new AgentTurn.Round(reply, null));
                AgentTurn.Outcome outcome = reply.finishReason() == FinishReason.LENGTH ? AgentTurn.Outcome.LENGTH : AgentTurn.Outcome.ANSWERED;
                return finish(rounds, text.content(), outcome, listener);
            }
            listener.on(new AgentEvent.Call(round, call));
            if (options.manualCalls()) {
                rounds.add(new AgentTurn.Round(reply, null));
                return finish(rounds, null, AgentTurn.Outcome.AWAITING_OBSERVATION, listener);
            }
            if (round >= options.maxRounds()) {
                rounds.add(new AgentTurn.Round(reply, null));
                listener.on(new AgentEvent.Status(round, "round limit reached (" + options.maxRounds()
                        + " model turns per message): the last call was not run"));
                return finish(rounds, null, AgentTurn.Outcome.ROUND_LIMIT, listener);
            }
            Observation observation = run(round, call, cancel, listener);
            rounds.add(new AgentTurn.Round(reply, observation));
            if (cancel.isCancelled()) {
                return finish(rounds, null, AgentTurn.Outcome.CANCELLED, listener);
            }
            listener.on(new AgentEvent.Result(round, call, observation));
            message = ChatMessage.observation(observation.content());
        }
    }

    private AgentTurn finish(List<AgentTurn.Round> rounds, String answer, AgentTurn.Outcome outcome, AgentListener listener) {
        var turn = new AgentTurn(rounds, answer, outcome);
        listener.on(new AgentEvent.Finished(turn));
        return turn;
    }

    private Observation run(int round, AssistantReply call, Cancellation cancel, AgentListener listener) throws InterruptedException {
        int limit = options.observationLimit();
        return switch (call) {
            case AssistantReply.ToolCall t -> {
                listener.on(new AgentEvent.Status(round, "calling " + t.name()));
                yield callTool(t, cancel);
            }
            case AssistantReply.CodeInterpreter code -> {
                if (interpreter == null) {
                    yield Observation.text("The code interpreter is not enabled here, so the code was not run.", limit, true);
                }
                listener.on(new AgentEvent.Status(round, "running the code"));
                try {
                    CellResult cell = interpreter.run(code.code(), cancel);
                    yield Observation.of(cell, limit);
                } catch (SandboxUnavailableException e) {
                    yield Observation.text("The code could not run: " + e.getMessage(), limit, true);
                }
            }
            // the reference demo stops here with "Failed to parse tool call"; the model is told instead, so it can retry
            case AssistantReply.MalformedToolCall bad -> Observation.text("Failed to parse tool call: " + bad.error(), limit, true);
            case AssistantReply.Text text -> throw new AssertionError("a text answer is not a call");
        };
    }

    /**
     * Runs the tool on a thread of its own, so that a tool that hangs can be abandoned at the timeout or on cancel. The
     * timeout counts from the moment the tool starts, so a busy machine does not stop tools that never ran.
     */
    private Observation callTool(AssistantReply.ToolCall call, Cancellation cancel) throws InterruptedException {
        int limit = options.observationLimit();
        if (cancel.isCancelled()) {
            return Observation.text("Tool `" + call.name() + "` was stopped.", limit, true);
        }
        var started = new CountDownLatch(1);
        Future<ToolResult> result = toolThreads.submit(() -> {
            started.countDown();
            return tools.call(call.name(), call.arguments());
        });
        try (var _ = cancel.onCancel(() -> {
            result.cancel(true);
            started.countDown();
        })) {
            started.await();
            return Observation.of(result.get(options.toolTimeout().toMillis(), TimeUnit.MILLISECONDS), limit);
        } catch (TimeoutException e) {
            result.cancel(true);
            return Observation.timedOut("Tool `" + call.name() + "` did not answer within " + options.toolTimeout().toSeconds()
                    + " s and was stopped.", limit);
        } catch (CancellationException e) {
            return Observation.text("Tool `" + call.name() + "` was stopped.", limit, true);
        } catch (ExecutionException e) {
            // ToolRegistry.call reports failures as results; an Error escaping a tool lands here
            return Observation.text(e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage(), limit, true);
        }
    }
}
