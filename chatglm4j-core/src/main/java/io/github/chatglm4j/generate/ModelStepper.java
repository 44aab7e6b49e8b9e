package io.github.chatglm4j.generate;

import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;

/**
 * The real {@link StepModel}: slots are KV caches of the ChatGLM3 model, decode steps run as one batch, and the
 * activations of every pass live in one workspace that the scheduler thread reuses.
 */
public final class ModelStepper implements StepModel {
    private final ChatGLMModel model;
    private final int contextSize;
    private final ChatGLMModel.Workspace workspace;

    public ModelStepper(ChatGLMModel model, int contextSize) {
        this.model = model;
        this.contextSize = contextSize;
        this.workspace = model.newWorkspace();
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
        return model.logits(model.feed(((CacheSlot) slot).cache, tokens, workspace), 0);
    }

    @Override
    public float[][] decode(Slot[] slots, int[] tokens) {
        KvCache[] caches = new KvCache[slots.length];
        for (int i = 0; i < slots.length; i++) {
            caches[i] = ((CacheSlot) slots[i]).cache;
        }
        return model.decodeBatch(caches, tokens, workspace);
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
