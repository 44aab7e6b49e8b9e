package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.server.chat.Fields;
import io.github.chatglm4j.server.chat.GenerationParams;
import io.github.chatglm4j.server.chat.InvalidRequestException;
import io.github.chatglm4j.server.chat.Usage;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;

/**
 * {@code POST /v1/completions}: plain completion, the base model's use. A text prompt is encoded as the reference
 * tokenizer does ({@code [gMASK] sop} + the text); a prompt of token ids is used exactly. Generation stops at end of
 * text only; the text is returned as decoded, not stripped.
 */
final class CompletionsEndpoint {
    /** OpenAI's default for this endpoint. */
    static final int DEFAULT_MAX_TOKENS = 16;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final ServerState server;
    private final Admission admission;
    private final long keepAliveNanos;

    CompletionsEndpoint(ServerState server, Admission admission, long keepAliveNanos) {
        this.server = server;
        this.admission = admission;
        this.keepAliveNanos = keepAliveNanos;
    }

    private record Prompt(int[] ids, String text) {
    }

    /** A request read, checked and tokenized, ready to be queued. */
    private record Admitted(Prompt prompt, GenerationParams params, boolean echo, GenerationOptions options) {
    }

    void handle(Exchange ex, Backend backend) throws IOException {
        byte[] bytes = ex.body();
        Admitted a = admission.run(() -> admit(bytes, backend));
        Prompt prompt = a.prompt();
        GenerationParams params = a.params();
        boolean echo = a.echo();
        GenerationRun run = GenerationRun.submit(backend, prompt.ids(), a.options(), server.active(), server.metrics(), "prompt", ex);
        String id = Endpoints.newId("cmpl-");
        long created = Endpoints.now();
        if (params.stream()) {
            stream(ex, run, backend, id, created, echo ? prompt.text() : "", params.includeUsage());
            return;
        }
        var text = new StringBuilder(echo ? prompt.text() : "");
        Generation g;
        try {
            g = run.await(text::append);
        } catch (GenerationRun.Failed e) {
            server.failed(e.getCause());
            throw ErrorResponses.internal();
        }
        if (run.cancelled(g, server.metrics())) {
            throw ErrorResponses.stopping(); // the client left (the answer goes nowhere) or the server is stopping
        }
        String finish = finishReason(g);
        server.metrics().finished(finish);
        ObjectNode root = header(id, created, backend, choice(text.toString(), finish));
        root.set("usage", Usage.of(g).toJson());
        ex.json(200, root);
    }

    /** The CPU work before queueing: parse, check, tokenize (on an admission thread). */
    private static Admitted admit(byte[] bytes, Backend backend) {
        ObjectNode body;
        Prompt prompt;
        GenerationParams params;
        boolean echo;
        try {
            body = Endpoints.object(bytes);
            Endpoints.checkModel(Fields.string(body, "model", "model"), backend);
            prompt = prompt(body.get("prompt"), backend);
            params = GenerationParams.parse(body);
            echo = Boolean.TRUE.equals(Fields.bool(body, "echo", "echo"));
            String suffix = Fields.string(body, "suffix", "suffix");
            if (suffix != null && !suffix.isEmpty()) {
                throw new InvalidRequestException("suffix", "suffix (fill-in-the-middle) is not supported by this model");
            }
            Long bestOf = Fields.integer(body, "best_of", Long.MIN_VALUE, Long.MAX_VALUE);
            if (bestOf != null && bestOf != 1) {
                throw new InvalidRequestException("best_of", "best_of must be 1, got " + bestOf);
            }
        } catch (InvalidRequestException e) {
            throw ErrorResponses.from(e);
        }
        int requested = params.maxTokens() == null ? DEFAULT_MAX_TOKENS : params.maxTokens();
        int max = GenerationRun.maxTokens(prompt.ids().length, requested, backend.contextSize(), "max_tokens", "prompt");
        var options = new GenerationOptions(params.sampling(), max, GenerationOptions.COMPLETION_STOP_IDS, params.stop(), null);
        return new Admitted(prompt, params, echo, options);
    }

    private void stream(Exchange ex, GenerationRun run, Backend backend, String id, long created, String echo,
                        boolean includeUsage) throws IOException {
        Generation g;
        Exchange.EventStream events = null;
        try {
            events = ex.events();
            Exchange.EventStream out = events;
            if (!echo.isEmpty()) {
                out.send(chunk(id, created, backend, choice(echo, null), includeUsage));
            }
            g = run.await(text -> out.send(chunk(id, created, backend, choice(text, null), includeUsage)),
                    () -> {
                        server.metrics().keepAlive();
                        out.keepAlive();
                    }, keepAliveNanos);
        } catch (IOException e) {
            run.cancel();
            server.metrics().finished("cancelled");
            throw e;
        } catch (GenerationRun.Failed e) {
            server.failed(e.getCause());
            events.send(ErrorResponses.body(ErrorResponses.internal()));
            events.done();
            return;
        }
        if (run.cancelled(g, server.metrics())) {
            return; // the client left, or the server is stopping: the stream just ends
        }
        String finish = finishReason(g);
        server.metrics().finished(finish);
        Usage usage = Usage.of(g);
        events.send(chunk(id, created, backend, choice("", finish), includeUsage));
        if (includeUsage) {
            ObjectNode u = header(id, created, backend, null);
            u.set("usage", usage.toJson());
            events.send(u);
        }
        events.done();
    }

    private static String finishReason(Generation g) {
        return g.finishReason() == FinishReason.LENGTH ? "length" : "stop";
    }

    private static ObjectNode chunk(String id, long created, Backend backend, ObjectNode choice, boolean includeUsage) {
        ObjectNode root = header(id, created, backend, choice);
        if (includeUsage) {
            root.putNull("usage");
        }
        return root;
    }

    private static ObjectNode header(String id, long created, Backend backend, ObjectNode choice) {
        ObjectNode root = NODES.objectNode();
        root.put("id", id);
        root.put("object", "text_completion");
        root.put("created", created);
        root.put("model", backend.modelId());
        var choices = root.putArray("choices");
        if (choice != null) {
            choices.add(choice);
        }
        return root;
    }

    private static ObjectNode choice(String text, String finishReason) {
        ObjectNode c = NODES.objectNode();
        c.put("index", 0);
        c.put("text", text);
        c.putNull("logprobs");
        if (finishReason == null) {
            c.putNull("finish_reason");
        } else {
            c.put("finish_reason", finishReason);
        }
        return c;
    }

    /** A string, a one-string array, an array of token ids, or a one-element array of such an array. */
    private static Prompt prompt(JsonNode p, Backend backend) {
        ChatGLMTokenizer tokenizer = backend.tokenizer();
        if (p == null || p.isNull()) {
            throw new InvalidRequestException("prompt", "prompt is required");
        }
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) {
            p = p.get(0);
        }
        if (p.isTextual()) {
            PromptBudget.checkText(backend, p.textValue(), "prompt");
            return new Prompt(PromptBuilder.withPrefix(tokenizer.encode(p.textValue())), p.textValue());
        }
        if (p.isArray() && !p.isEmpty() && p.get(0).isNumber()) {
            if (p.size() >= backend.contextSize()) {
                throw ErrorResponses.contextOverflow(p.size(), backend.contextSize(), "prompt");
            }
            int[] ids = Endpoints.tokenIds(p, "prompt", tokenizer);
            return new Prompt(ids, tokenizer.decode(ids));
        }
        if (p.isArray() && p.size() > 1) {
            throw new InvalidRequestException("prompt", "prompt must be a single prompt: this server generates one choice per request");
        }
        throw new InvalidRequestException("prompt", "prompt must be a non-empty string or an array of token ids");
    }
}
