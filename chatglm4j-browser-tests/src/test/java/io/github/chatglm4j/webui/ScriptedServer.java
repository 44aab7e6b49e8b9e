package io.github.chatglm4j.webui;

import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.server.Backend;
import io.github.chatglm4j.server.OpenAiServer;
import io.github.chatglm4j.server.ServerOptions;
import io.github.chatglm4j.server.agent.AgentApiOptions;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The real server as {@code chatglm serve} wires it ({@link OpenAiServer} with its agent API and the real sandbox,
 * 4 parallel slots, a queue of 64) on a loopback port, over the real scheduler driven by a scripted ChatGLM3: the test
 * says, per prompt, what the model writes, and the reply is generated as the token ids of the fixture tokenizer (the
 * metadata line, the text or the fenced call, the stop token), so the server's own chat protocol parsing, agent loop,
 * tool calls and code execution run exactly as with a real model. A {@link Hold} in a reply stops the model just
 * before that token until the test releases it: the page then shows the reply so far and its stream stays open.
 */
final class ScriptedServer implements AutoCloseable {
    static final String MODEL = "chatglm3-6b (scripted)";
    /** serve's --parallel and --queue defaults. */
    static final int SLOTS = 4;
    static final int QUEUE = 64;
    /** Longer than any test takes, so that only the timeout test sees a cell time out. */
    static final Duration CELL_TIMEOUT = Duration.ofMinutes(5);

    final OpenAiServer server;
    final BatchScheduler scheduler;
    final ScriptedModel model;
    /** The model's reply to a prompt; tests set it before the page sends. */
    volatile Function<Prompt, Reply> replies = p -> Reply.text("Hello!");
    /** Every prompt the model began a reply to, in order. */
    final List<Prompt> prompts = new CopyOnWriteArrayList<>();
    private final Map<Integer, Reply> running = new ConcurrentHashMap<>();
    private final List<Hold> holds = new CopyOnWriteArrayList<>();
    private final Backend backend;

    /** Serves with the agent options of {@code chatglm serve}'s defaults (a long cell timeout aside), ready. */
    static ScriptedServer start() {
        return start(o -> o);
    }

    /** Serves with the options changed as given (the key, the agent's limits), ready. */
    static ScriptedServer start(UnaryOperator<ServerOptions> options) {
        var s = new ScriptedServer(options.apply(defaults()), SLOTS, QUEUE);
        s.ready();
        return s;
    }

    /** Serves, but the model is still "loading" until {@link #ready()}: /health and the page say so. */
    static ScriptedServer loading() {
        return new ScriptedServer(defaults(), SLOTS, QUEUE);
    }

    /** One slot and no queue: a second conversation's turn is refused while a first one generates. */
    static ScriptedServer withOneSlotAndNoQueue() {
        var s = new ScriptedServer(defaults(), 1, 0);
        s.ready();
        return s;
    }

    static ServerOptions defaults() {
        return ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withCellTimeout(CELL_TIMEOUT));
    }

    private ScriptedServer(ServerOptions options, int slots, int queue) {
        this.model = ScriptedModel.replying(8192, this::next);
        this.scheduler = new BatchScheduler(model, tokenizer(), slots, queue);
        this.server = OpenAiServer.start(options);
        this.backend = new Backend(MODEL, tokenizer(), new PromptBuilder(tokenizer()), scheduler, 1_700_000_000L);
    }

    void ready() {
        server.ready(backend);
    }

    static ChatGLMTokenizer tokenizer() {
        return Fixtures.tokenizer();
    }

    String url() {
        return server.pageUrl();
    }

    /** The token after {@code generated} of the reply to {@code prompt}; on the scheduler thread. */
    private int next(int[] prompt, int generated) {
        if (generated == 0 && prompt[prompt.length - 1] != ChatGLMTokenizer.ASSISTANT) {
            // the scheduler computes a long prompt in chunks while other replies are generated and asks the model
            // after each chunk, using only the last answer: a part of a prompt is not answered (one that happens to
            // end with an <|assistant|> of the history is, and the scheduler throws that answer away)
            return ChatGLMTokenizer.EOS;
        }
        int key = Arrays.hashCode(prompt) ^ prompt.length;
        Reply reply;
        if (generated == 0) {
            Prompt p = new Prompt(prompt, tokenizer().decode(prompt));
            prompts.add(p);
            reply = replies.apply(p);
            running.put(key, reply);
            holds.addAll(reply.holds.values());
        } else {
            reply = running.get(key);
        }
        Hold hold = reply.holds.get(generated);
        if (hold != null) {
            hold.arrive();
        }
        return generated < reply.ids.length ? reply.ids[generated] : ChatGLMTokenizer.EOS;
    }

    /** The last prompt the model was given. */
    Prompt lastPrompt() {
        return prompts.getLast();
    }

    @Override
    public void close() {
        holds.forEach(Hold::release);
        server.close();
        scheduler.close();
    }

    /** A prompt as the model got it. */
    record Prompt(int[] ids, String text) {
        /** The text of the last message (after its role token and header line). */
        String lastMessage() {
            String body = text.substring(0, text.length() - "<|assistant|>".length());
            int at = Math.max(Math.max(body.lastIndexOf("<|user|>"), body.lastIndexOf("<|observation|>")), body.lastIndexOf("<|system|>"));
            return body.substring(body.indexOf('\n', at) + 1).strip();
        }

        /** Whether the last message is a tool's or the interpreter's result (the model answers it). */
        boolean answersAResult() {
            String body = text.substring(0, text.length() - "<|assistant|>".length());
            return body.lastIndexOf("<|observation|>") > body.lastIndexOf("<|user|>");
        }

        /**
         * The messages, one line each: {@code role: content}, or {@code role [metadata]: content} for a call, as
         * the model read them (the prompt's ids decoded); the empty assistant turn the model writes is left out.
         */
        List<String> transcript() {
            List<String> out = new java.util.ArrayList<>();
            var m = java.util.regex.Pattern.compile("<\\|(system|user|assistant|observation)\\|>").matcher(text);
            int start = -1;
            String role = null;
            while (true) {
                boolean found = m.find();
                if (role != null) {
                    String segment = text.substring(start, found ? m.start() : text.length());
                    int nl = segment.indexOf('\n');
                    String metadata = nl < 0 ? segment.strip() : segment.substring(0, nl).strip();
                    String content = nl < 0 ? "" : segment.substring(nl + 1).strip();
                    if (found || !content.isEmpty() || !metadata.isEmpty()) {
                        out.add(role + (metadata.isEmpty() ? "" : " [" + metadata + "]") + ": " + content);
                    }
                }
                if (!found) {
                    return out;
                }
                role = m.group(1);
                start = m.end();
            }
        }

        /** The text of the last user message. */
        String lastUserMessage() {
            int at = text.lastIndexOf("<|user|>");
            int end = text.indexOf("<|", at + 2);
            return text.substring(text.indexOf('\n', at) + 1, end).strip();
        }
    }

    /**
     * Where a reply stops until the test lets it go on: the model waits just before the token at this point, so the
     * text before it has been streamed and the turn's stream stays open.
     */
    static final class Hold {
        private final CountDownLatch reached = new CountDownLatch(1);
        private final CountDownLatch go = new CountDownLatch(1);

        /** On the scheduler thread. */
        void arrive() {
            reached.countDown();
            try {
                go.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Returns once the model waits here (bounded, so that a page that never sends fails the test). */
        void awaitReached() throws InterruptedException {
            if (!reached.await(60, TimeUnit.SECONDS)) {
                throw new AssertionError("the model never reached its hold point");
            }
        }

        boolean reached() {
            return reached.getCount() == 0;
        }

        void release() {
            go.countDown();
        }
    }

    /** What the model writes after {@code <|assistant|>}: ids, and the holds by the index of the token they precede. */
    static final class Reply {
        final int[] ids;
        final Map<Integer, Hold> holds;

        private Reply(int[] ids, Map<Integer, Hold> holds) {
            this.ids = ids;
            this.holds = holds;
        }

        /** A plain answer: the empty metadata line, the text (Strings, with {@link Hold}s between them), {@code <|user|>}. */
        static Reply text(Object... parts) {
            return build("", parts, ChatGLMTokenizer.USER);
        }

        /** A tool call as ChatGLM3 writes it: the tool's name line, then the fenced body, then {@code <|observation|>}. */
        static Reply call(String tool, Object... fencedBody) {
            return build(tool, fencedBody, ChatGLMTokenizer.OBSERVATION);
        }

        /** Code for the interpreter: {@code interpreter}, then the code fenced as Python ({@link Hold}s allowed in it). */
        static Reply code(Object... python) {
            Object[] parts = new Object[python.length + 2];
            parts[0] = "```python\n";
            System.arraycopy(python, 0, parts, 1, python.length);
            parts[parts.length - 1] = "\n```";
            return call("interpreter", parts);
        }

        /**
         * The header line and the body, each encoded as the prompt builder encodes a message (so a history with this
         * reply re-encodes to the same ids); each hold goes before the first token of the text that follows it.
         */
        private static Reply build(String metadata, Object[] parts, int stop) {
            StringBuilder body = new StringBuilder();
            Map<Integer, Hold> at = new HashMap<>();
            for (Object part : parts) {
                switch (part) {
                    case String s -> body.append(s);
                    case Hold h -> at.put(body.length(), h);
                    default -> throw new IllegalArgumentException("a reply is made of Strings and Holds, not " + part);
                }
            }
            int[] header = tokenizer().encode(metadata + "\n");
            int[] text = tokenizer().encode(body.toString());
            Map<Integer, Hold> holds = new HashMap<>();
            for (var e : at.entrySet()) {
                holds.put(header.length + tokenIndexAt(text, body.substring(0, e.getKey())), e.getValue());
            }
            int[] ids = new int[header.length + text.length + 1];
            System.arraycopy(header, 0, ids, 0, header.length);
            System.arraycopy(text, 0, ids, header.length, text.length);
            ids[ids.length - 1] = stop;
            return new Reply(ids, holds);
        }

        /** The index of the first token after {@code prefix}; fails if no token boundary falls there. */
        private static int tokenIndexAt(int[] ids, String prefix) {
            for (int k = 0; k <= ids.length; k++) {
                String decoded = tokenizer().decode(Arrays.copyOf(ids, k));
                if (decoded.strip().equals(prefix.strip()) && decoded.length() >= prefix.strip().length()) {
                    // the next token must start the rest (not merge with what came before)
                    return k;
                }
            }
            throw new IllegalArgumentException("no token boundary after \"" + prefix + "\": put the hold before a word");
        }

        @Override
        public String toString() {
            return tokenizer().decode(ids);
        }
    }
}
