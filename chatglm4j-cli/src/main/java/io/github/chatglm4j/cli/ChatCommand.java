package io.github.chatglm4j.cli;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.ChatReply;
import io.github.chatglm4j.ChatSession;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code chatglm chat}: the reference cli_demo.py, streaming, with the KV cache kept between turns. */
@Command(name = "chat", sortOptions = false,
        description = {"Chat with a ChatGLM3 model in the terminal, streaming each reply.",
                "Type 'clear' to start a new conversation (the system prompt stays) and 'stop' or Ctrl-D to exit; "
                        + "Ctrl-C stops a reply. Lines are read plainly when stdin is not a terminal, so a script can "
                        + "drive the chat. After each reply a statistics line (prompt and generation tokens/s) goes "
                        + "to stderr."})
final class ChatCommand implements Callable<Integer> {
    static final String WELCOME_ZH = "欢迎使用 ChatGLM3-6B 模型，输入内容即可进行对话，clear 清空对话历史，stop 终止程序";

    private final Io io;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt at the start of every conversation.")
    String system;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "2048",
            description = "Longest reply in tokens. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Mixin
    AgentChatOptions agent;

    ChatCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        if (maxNewTokens < 1) {
            throw new ParameterException(spec.commandLine(), "--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        GenerationOptions options = GenerationOptions.chat(sampling.params(), maxNewTokens);
        if (agent.enabled()) {
            return new AgentChat(io, spec, model, agent, system, options, maxNewTokens).run();
        }
        Style errStyle = Style.forTerminal(io.stderrTerminal());
        long t0 = System.nanoTime();
        try (ChatGLM glm = model.load(io, 0); ChatConsole console = ChatConsole.open(io)) {
            note(errStyle, String.format(Locale.ROOT, "loaded %s in %.1f s: %s weights, %d threads, context %d tokens (%s)",
                    model.displayName(), (System.nanoTime() - t0) / 1e9,
                    glm.model().weights().matrixType(), glm.threads(), glm.contextSize(), ModelOptions.kvCacheSummary(glm)), console.out());
            List<ChatMessage> start = system == null ? List.of() : List.of(ChatMessage.system(system));
            ChatSession session = glm.newChat(start);
            AtomicBoolean cancelled = new AtomicBoolean();
            console.onInterrupt(() -> cancelled.set(true));
            GenerationOptions cancellable = options.withCancellation(cancelled::get);
            Style style = console.style();
            PrintWriter out = console.out();
            welcome(out, style);
            while (true) {
                out.println();
                String line = console.readLine(style.bold("User: "));
                if (line == null) {
                    break;
                }
                String command = line.strip();
                if (command.equals("stop")) {
                    break;
                }
                if (command.equals("clear")) {
                    session.reset();
                    console.clearScreen();
                    welcome(out, style);
                    continue;
                }
                if (command.isEmpty()) {
                    continue;
                }
                out.print(style.bold("ChatGLM: "));
                out.flush();
                var printer = new ReplyPrinter(out, style, true);
                cancelled.set(false);
                ChatReply reply;
                try (var _ = console.replying()) {
                    reply = session.send(ChatMessage.user(line), cancellable, printer);
                } catch (ContextOverflowException e) {
                    out.println();
                    note(errStyle, "chatglm: the conversation (" + e.promptTokens() + " tokens with this message) "
                            + "no longer fits the context of " + e.contextSize() + " tokens; type 'clear' to start a "
                            + "new one (or restart with a larger --ctx)", out);
                    continue;
                }
                printer.finish(reply.reply());
                ending(reply, glm, session, out, style);
                note(errStyle, stats(reply.generation()), out);
            }
        }
        return 0;
    }

    private void welcome(PrintWriter out, Style style) {
        out.println(style.bold("Welcome to ChatGLM3 (" + model.displayName() + "). "
                + "Type a message to chat; 'clear' clears the history, 'stop' exits."));
        out.println(WELCOME_ZH);
        out.flush();
    }

    /** Says why a reply ended early, when it did. */
    private void ending(ChatReply reply, ChatGLM glm, ChatSession session, PrintWriter out, Style style) {
        String why = null;
        if (reply.finishReason() == FinishReason.CANCELLED) {
            why = "[stopped]";
        } else if (reply.finishReason() == FinishReason.LENGTH) {
            why = session.tokensUsed() + 1 >= glm.contextSize()
                    ? "[the context is full (" + glm.contextSize() + " tokens): type 'clear' to start a new conversation]"
                    : "[reply cut at --max-new-tokens " + maxNewTokens + "]";
        }
        if (why != null) {
            out.println(style.dim(why));
            out.flush();
        }
    }

    /** Writes a line to stderr (dimmed on a terminal) after flushing the reply, so the two stay in order. */
    private void note(Style errStyle, String text, PrintWriter out) {
        out.flush();
        io.out().flush();
        io.err().println(errStyle.dim(text));
        io.err().flush();
    }

    /** "[prompt: 40 tokens (28 cached), 51.2 tokens/s | reply: 12 tokens, 9.8 tokens/s]": speeds of computed tokens. */
    static String stats(Generation g) {
        int cached = g.promptTokens() - g.computedTokens();
        return String.format(Locale.ROOT, "[prompt: %d tokens%s, %.1f tokens/s | reply: %d tokens, %.1f tokens/s]",
                g.promptTokens(), cached > 0 ? " (" + cached + " cached)" : "", g.prefillTokensPerSecond(),
                g.ids().length, g.decodeTokensPerSecond());
    }
}
