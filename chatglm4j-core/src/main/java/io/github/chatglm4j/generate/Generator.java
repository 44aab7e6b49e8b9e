package io.github.chatglm4j.generate;

import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import io.github.chatglm4j.tokenizer.StreamingDecoder;

import java.util.Arrays;

/**
 * The token loop: prefill the prompt (reusing the cached prefix), then sample, stream and feed one token at a
 * time until a stop id, the new-token limit, the context size or cancellation. Unlike the reference's
 * {@code outputs[:-1]} slicing, a reply cut by the length limit keeps its last token.
 */
public final class Generator {
    private final ChatGLMTokenizer tokenizer;

    public Generator(ChatGLMTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Generates after {@code promptIds}. On return the sequence holds the prompt and every generated token except
     * the last one sampled (the stop id, or the token that hit a limit), which is never fed.
     */
    public Generation generate(Sequence seq, int[] promptIds, GenerationOptions options, TokenListener listener) {
        if (promptIds.length >= seq.contextSize()) {
            throw new ContextOverflowException(promptIds.length, seq.contextSize());
        }
        Sampler sampler = new Sampler(options.sampling());
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        StringBuilder text = new StringBuilder();
        int[] context = Arrays.copyOf(promptIds, promptIds.length + Math.max(16, Math.min(options.maxNewTokens(), seq.contextSize())));
        int contextLength = promptIds.length;
        int generated = 0;
        int stopId = -1;
        FinishReason reason = null;

        long t0 = System.nanoTime();
        if (options.maxNewTokens() == 0) {
            return new Generation(promptIds.length, 0, new int[0], "", FinishReason.LENGTH, -1, 0, 0);
        }
        float[] logits = seq.prefill(promptIds);
        int computed = seq.lastComputed();
        long t1 = System.nanoTime();
        while (reason == null) {
            if (options.cancelled().getAsBoolean()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            int id = sampler.sample(logits, context, contextLength, promptIds.length);
            if (options.isStop(id)) {
                stopId = id;
                reason = FinishReason.STOP;
                break;
            }
            if (contextLength == context.length) {
                context = Arrays.copyOf(context, context.length * 2);
            }
            context[contextLength++] = id;
            generated++;
            String piece = decoder.push(id);
            text.append(piece);
            listener.onToken(id, piece);
            if (generated >= options.maxNewTokens() || contextLength >= seq.contextSize()) {
                reason = FinishReason.LENGTH;
                break;
            }
            logits = seq.append(id);
        }
        String rest = decoder.flush();
        if (!rest.isEmpty()) {
            text.append(rest);
            listener.onToken(-1, rest);
        }
        long t2 = System.nanoTime();
        return new Generation(promptIds.length, computed, Arrays.copyOfRange(context, promptIds.length, contextLength),
                text.toString(), reason, stopId, t1 - t0, t2 - t1);
    }
}
