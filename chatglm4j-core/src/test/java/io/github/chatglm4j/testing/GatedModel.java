package io.github.chatglm4j.testing;

import io.github.chatglm4j.generate.StepModel;

/** Any {@link StepModel} (the real tiny model, say) behind a {@link Gate}, so a test can hold the scheduler. */
public final class GatedModel implements StepModel {
    private final StepModel model;
    public final Gate gate = new Gate();

    public GatedModel(StepModel model) {
        this.model = model;
    }

    @Override
    public int contextSize() {
        return model.contextSize();
    }

    @Override
    public Slot newSlot() {
        return model.newSlot();
    }

    @Override
    public float[] prefill(Slot slot, int[] tokens) {
        gate.pass();
        return model.prefill(slot, tokens);
    }

    @Override
    public float[][] decode(Slot[] slots, int[] tokens) {
        gate.pass();
        return model.decode(slots, tokens);
    }
}
