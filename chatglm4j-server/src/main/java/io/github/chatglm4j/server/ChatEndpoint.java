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
    private final long keepAliveNanos;

    ChatEndpoint(ServerState server, long keepAliveNanos) {
        this.server = server;
        this.keepAliveNanos = keepAliveNanos;
    }

    void handle(Exchange ex, Backend backend) throws IOException {
        ChatRequest request;
        try {
            request = ChatRequest.parse(ex.jsonObject());
        } catch (InvalidRequestException e) {
            throw ErrorResponses.from(e);
        }
        Endpoints.checkModel(request.model(), backend);
        int[] prompt = prompt(backend, request);
        GenerationParams params = request.generation();
        int max = GenerationRun.maxTokens(prompt.length, params.maxTokens(), backend.contextSize(), "max_tokens");
        var options = new GenerationOptions(params.sampling(), max, GenerationOptions.CHAT_STOP_IDS, params.stop(), null);
        GenerationRun run = GenerationRun.submit(backend, prompt, options, server.active(), server.metrics());
        var responses = new ChatResponses(Endpoints.newId("chatcmpl-"), Endpoints.now(), backend.modelId(), request.tools().legacy());
        var reply = new ReplyStream(request.tools(), request.prefill());
        if (params.stream()) {
            stream(ex, run, reply, responses, params.includeUsage());
        } else {
            whole(ex, run, reply, responses);
        }
    }

    /** The prompt ids; a named tool choice pre-fills the tool name line of the assistant turn. */
    static int[] prompt(Backend backend, ChatRequest request) {
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
