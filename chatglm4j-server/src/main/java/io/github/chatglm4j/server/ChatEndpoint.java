package io.github.chatglm4j.server;

import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.server.chat.ChatRequest;
import io.github.chatglm4j.server.chat.ChatResponses;
import io.github.chatglm4j.server.chat.GenerationParams;
import io.github.chatglm4j.server.chat.InvalidRequestException;
import io.github.chatglm4j.server.chat.ReplyStream;
import io.github.chatglm4j.server.chat.Usage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code POST /v1/chat/completions}: the request mapped to a ChatGLM3 prompt, generated, answered whole or streamed. */
final class ChatEndpoint {
    private final ServerState server;
    private final Admission admission;
    private final long keepAliveNanos;

    ChatEndpoint(ServerState server, Admission admission, long keepAliveNanos) {
        this.server = server;
        this.admission = admission;
        this.keepAliveNanos = keepAliveNanos;
    }

    /** A request read, checked and tokenized, ready to be queued. */
    private record Admitted(ChatRequest request, int[] prompt, GenerationOptions options) {
    }

    void handle(Exchange ex, Backend backend) throws IOException {
        byte[] body = ex.body();
        Admitted a = admission.run(() -> admit(body, backend));
        ChatRequest request = a.request();
        GenerationParams params = request.generation();
        GenerationRun run = GenerationRun.submit(backend, a.prompt(), a.options(), server.active(), server.metrics(), "messages", ex);
        var responses = new ChatResponses(Endpoints.newId("chatcmpl-"), Endpoints.now(), backend.modelId(), request.tools().legacy());
        var reply = new ReplyStream(request.tools(), request.prefill());
        if (params.stream()) {
            stream(ex, run, reply, responses, params.includeUsage());
        } else {
            whole(ex, run, reply, responses);
        }
    }

    /** The CPU work before queueing: parse, map, render, tokenize (on an admission thread). */
    private static Admitted admit(byte[] body, Backend backend) {
        ChatRequest request;
        try {
            request = ChatRequest.parse(Endpoints.object(body));
        } catch (InvalidRequestException e) {
            throw ErrorResponses.from(e);
        }
        Endpoints.checkModel(request.model(), backend);
        int[] prompt = prompt(backend, request);
        GenerationParams params = request.generation();
        int max = GenerationRun.maxTokens(prompt.length, params.maxTokens(), backend.contextSize(), "max_tokens", "messages");
        var options = new GenerationOptions(params.sampling(), max, GenerationOptions.CHAT_STOP_IDS, params.stop(), null);
        return new Admitted(request, prompt, options);
    }

    /**
     * The prompt ids; a named tool choice pre-fills the tool name line of the assistant turn. Messages that cannot
     * fit the context are refused before they are rendered or tokenized.
     */
    static int[] prompt(Backend backend, ChatRequest request) {
        PromptBudget.checkMessages(backend, request.messages());
        int[] ids = backend.prompts().buildPrompt(request.messages());
        if (request.prefill().isEmpty()) {
            return ids;
        }
        int[] name = backend.tokenizer().encode(request.prefill());
        int[] out = Arrays.copyOf(ids, ids.length + name.length);
        System.arraycopy(name, 0, out, ids.length, name.length);
        return out;
    }

    private void whole(Exchange ex, GenerationRun run, ReplyStream reply, ChatResponses responses) throws IOException {
        List<ReplyStream.Delta> deltas = new ArrayList<>();
        Generation g;
        try {
            g = run.await(text -> deltas.addAll(reply.push(text)));
        } catch (GenerationRun.Failed e) {
            server.failed(e.getCause());
            throw ErrorResponses.internal();
        }
        if (run.cancelled(g, server.metrics())) {
            throw ErrorResponses.stopping(); // the client left (the answer goes nowhere) or the server is stopping
        }
        ReplyStream.Finish finish = reply.finish(g.finishReason());
        deltas.addAll(finish.deltas());
        server.metrics().finished(finish.finishReason());
        ex.json(200, responses.completion(deltas, finish.finishReason(), Usage.of(g)));
    }

    private void stream(Exchange ex, GenerationRun run, ReplyStream reply, ChatResponses responses, boolean includeUsage)
            throws IOException {
        Exchange.EventStream events;
        try {
            events = ex.events();
            events.send(responses.roleChunk(includeUsage));
        } catch (IOException e) {
            run.cancel();
            server.metrics().finished("cancelled");
            throw e;
        }
        Generation g;
        try {
            g = run.await(text -> {
                for (var chunk : responses.chunks(reply.push(text), includeUsage)) {
                    events.send(chunk);
                }
            }, () -> {
                server.metrics().keepAlive();
                events.keepAlive();
            }, keepAliveNanos);
        } catch (IOException e) {
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
        ReplyStream.Finish finish = reply.finish(g.finishReason());
        server.metrics().finished(finish.finishReason());
        Usage usage = Usage.of(g);
        for (var chunk : responses.chunks(finish.deltas(), includeUsage)) {
            events.send(chunk);
        }
        events.send(responses.finishChunk(finish.finishReason(), includeUsage));
        if (includeUsage) {
            events.send(responses.usageChunk(usage));
        }
        events.done();
    }
}
