package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.ChatSession;
import io.github.chatglm4j.agent.Agent;
import io.github.chatglm4j.agent.AgentOptions;
import io.github.chatglm4j.agent.AgentTurn;
import io.github.chatglm4j.agent.SessionTurns;
import io.github.chatglm4j.agent.interpreter.CodeInterpreter;
import io.github.chatglm4j.agent.interpreter.InterpreterOptions;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;
import io.github.chatglm4j.agent.tool.BuiltinTools;
import io.github.chatglm4j.agent.tool.ToolRegistry;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.generate.GenerationFailedException;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.QueueFullException;
import io.github.chatglm4j.server.Backend;
import io.github.chatglm4j.server.Exchange;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One turn of a conversation with the agent: the conversation is rebuilt from the history the browser sent (a
 * {@link ChatSession} on the model's scheduler, whose prefix reuse makes the part computed before free), the agent
 * runs on a thread of its own, and its events are written as server-sent events by the request's thread, with a
 * keep-alive comment whenever nothing happens for a while. A client that leaves, a Stop request or the conversation's
 * deletion cancel the turn: generation ends, a running cell is interrupted, a tool is stopped.
 */
final class AgentTurnStream {
    private static final System.Logger LOG = System.getLogger("io.github.chatglm4j.server");
    /** Put after the last event. */
    private static final ObjectNode END = JsonNodeFactory.instance.objectNode();

    private final Backend backend;
    private final AgentApiOptions options;
    private final Supplier<SandboxStatus> sandbox;
    private final Conversations conversations;
    private final BlockingQueue<ObjectNode> events = new LinkedBlockingQueue<>();

    private AgentTurnStream(Backend backend, AgentApiOptions options, Supplier<SandboxStatus> sandbox, Conversations conversations) {
        this.backend = backend;
        this.options = options;
        this.sandbox = sandbox;
        this.conversations = conversations;
    }

    /**
     * Runs the turn and streams its events until the last one (or until the client leaves).
     *
     * @param sandbox the sandbox's status, asked for only when the turn runs code
     * @param system  the server-built system message (tools or interpreter prompt, or chat mode's), or null
     * @param use     the conversation, held by the turn until it ends (the agent's thread closes it)
     */
    static void run(Exchange ex, Backend backend, AgentApiOptions options, Supplier<SandboxStatus> sandbox, Conversations conversations,
                    TurnRequest request, ChatMessage system, Conversations.Use use, TurnControl control, long keepAliveNanos)
            throws IOException {
        var turn = new AgentTurnStream(backend, options, sandbox, conversations);
        ex.onClientGone(control::cancel);
        Thread.ofVirtual().name("chatglm-agent-turn-" + use.conversation.id).start(() -> {
            ObjectNode last;
            try (use) {
                last = turn.turn(request, system, use.conversation, control);
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.ERROR, "agent turn failed", e);
                last = TurnEvents.error("server_error", "The server had an error while running the turn.");
            }
            // the conversation is free before the page sees the end, so it can send the next turn at once
            turn.events.add(last);
            turn.events.add(END);
        });
        turn.write(ex, control, keepAliveNanos);
    }

    private void write(Exchange ex, TurnControl control, long keepAliveNanos) throws IOException {
        try {
            Exchange.EventStream out = ex.events();
            while (true) {
                ObjectNode e = events.poll(keepAliveNanos, TimeUnit.NANOSECONDS);
                if (e == null) {
                    out.keepAlive();
                } else if (e == END) {
                    return;
                } else {
                    out.send(e);
                }
            }
        } catch (IOException e) {
            control.cancel(); // the client is gone
            throw e;
        } catch (InterruptedException e) {
            control.cancel(); // the server is stopping
            Thread.currentThread().interrupt();
        }
    }

    /** Runs the agent (on the turn's thread), passing its events on; returns the last event. */
    private ObjectNode turn(TurnRequest request, ChatMessage system, Conversation conversation, TurnControl control) {
        if (request.needsSandbox() && !sandbox.get().available()) {
            return TurnEvents.error("sandbox_unavailable", "Code cannot run on this server: " + sandbox.get().reason());
        }
        try {
            CodeInterpreter python = request.needsWorker() ? interpreter(conversation) : null;
            ToolRegistry tools = tools(request, conversation);
            var start = new ArrayList<ChatMessage>();
            if (system != null) {
                start.add(system);
            }
            start.addAll(request.history());
            ChatSession session = ChatSession.over(backend.scheduler(), backend.prompts(), start);
            var agent = new Agent(new SessionTurns(session, GenerationOptions.chat(request.sampling(), request.maxTokens())),
                    tools, python, AgentOptions.DEFAULTS.withMaxRounds(options.maxRounds()).withToolTimeout(options.cellTimeout())
                    .withManualCalls(request.manual()));
            AgentTurn turn = agent.send(request.message(), event -> {
                ObjectNode e = TurnEvents.of(event);
                if (e != null) {
                    events.add(e);
                }
            }, control.cancellation());
            List<ChatMessage> history = agent.history();
            return TurnEvents.done(turn, options.maxRounds(), history.subList(system == null ? 0 : 1, history.size()));
        } catch (SandboxUnavailableException e) {
            return TurnEvents.error("sandbox_unavailable", "Code cannot run in this conversation: " + e.getMessage());
        } catch (ContextOverflowException e) {
            return TurnEvents.error("context_length_exceeded", "The conversation (" + e.promptTokens() + " tokens with this "
                    + "message) does not fit the model's context of " + e.contextSize() + " tokens; start a new conversation.");
        } catch (QueueFullException e) {
            return TurnEvents.error("server_busy", e.getMessage());
        } catch (GenerationFailedException e) {
            LOG.log(System.Logger.Level.ERROR, "generation failed", e.getCause());
            return TurnEvents.error("generation_failed", "The model failed while generating.");
        } catch (IOException e) {
            return TurnEvents.error("server_error", "The conversation's folder could not be made: " + e.getMessage());
        } catch (IllegalStateException e) {
            // the conversation's worker was closed for good: Conversation.interpreter, CodeInterpreter.run
            return TurnEvents.error("conversation_deleted", "The conversation was deleted.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return TurnEvents.error("server_stopping", "The server is stopping.");
        }
    }

    /** The conversation's worker; a worker that cannot start gives its place back. */
    private CodeInterpreter interpreter(Conversation conversation) throws InterruptedException, IOException {
        try {
            return conversation.interpreter(sandbox.get().sandbox(), InterpreterOptions.DEFAULTS.withCellTimeout(options.cellTimeout()));
        } catch (SandboxUnavailableException | IOException | IllegalStateException e) {
            conversations.releaseWorker(conversation);
            throw e;
        }
    }

    /** Tool mode's tools: with their implementations (get_shell in the sandbox, in the conversation's folder), or declared only (manual mode). */
    private ToolRegistry tools(TurnRequest request, Conversation conversation) throws IOException {
        if (request.mode() != TurnRequest.Mode.TOOL) {
            return new ToolRegistry();
        }
        if (request.manual()) {
            return declaredTools(request);
        }
        var tools = new ToolRegistry();
        for (String name : request.builtins()) {
            tools.add(switch (name) {
                case "get_weather" -> BuiltinTools.weather(options.weather());
                case "get_shell" -> BuiltinTools.shell(sandbox.get().sandbox(), conversation.folder(sandbox.get().sandbox()), options.cellTimeout());
                default -> Builtins.declared(name);
            });
        }
        return tools;
    }

    /** The tools as the system prompt shows them. */
    private static ToolRegistry declaredTools(TurnRequest request) {
        var declared = new ToolRegistry().addAll(request.definitions());
        request.builtins().forEach(name -> declared.add(Builtins.declared(name)));
        return declared;
    }

    /** The system message the server puts first: the trained prompt of tools or the interpreter, or chat's own. */
    static ChatMessage systemMessage(TurnRequest request) {
        return switch (request.mode()) {
            case CHAT -> request.system() == null ? null : ChatMessage.system(request.system());
            case INTERPRETER -> Agent.systemMessage(null, true);
            case TOOL -> Agent.systemMessage(declaredTools(request), false);
        };
    }
}
