package io.github.chatglm4j.batch;

import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;

/** The real {@link StepModel}: slots are KV caches of the ChatGLM3 model, decode steps run as one batch. */
public final class ModelStepper implements StepModel {
    private final ChatGLMModel model;
    private final int contextSize;

    public ModelStepper(ChatGLMModel model, int contextSize) {
        this.model = model;
        this.contextSize = contextSize;
    }

    @Override
    public int contextSize() {
        return contextSize;
    }

    @Override
    public Slot newSlot() {
        return new CacheSlot(model.newCache(contextSize));
    }

    @Override
    public float[] prefill(Slot slot, int[] tokens) {
        return model.logits(model.feed(((CacheSlot) slot).cache, tokens), 0);
    }

    @Override
    public float[][] decode(Slot[] slots, int[] tokens) {
        KvCache[] caches = new KvCache[slots.length];
        for (int i = 0; i < slots.length; i++) {
            caches[i] = ((CacheSlot) slots[i]).cache;
        }
        return model.decodeBatch(caches, tokens);
    }

    private record CacheSlot(KvCache cache) implements Slot {
        @Override
        public int length() {
            return cache.length();
        }

        @Override
        public void truncate(int length) {
            cache.truncate(length);
        }
    }
}
