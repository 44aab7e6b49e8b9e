package io.github.chatglm4j.generate;

/**
 * What the scheduler needs from a model: sequences held in slots, prompt chunks fed into one slot, and one decode
 * step that advances many slots by one token each in a single pass over the weights. The real implementation is
 * {@link ModelStepper}; tests can script the tokens with their own implementation.
 */
public interface StepModel {

    /** Most tokens one slot can hold. */
    int contextSize();

    /** A new empty slot (its own KV cache). */
    Slot newSlot();

    /** Feeds {@code tokens} after what the slot holds and returns the logits after the last of them. */
    float[] prefill(Slot slot, int[] tokens);

    /**
     * Feeds {@code tokens[i]} into {@code slots[i]} for every i, together, and returns each slot's next logits (row i
     * for slot i; the rows may be reused by the next call, and the array may be longer than {@code slots}).
     */
    float[][] decode(Slot[] slots, int[] tokens);

    /** One sequence's model state. */
    interface Slot {
        /** Tokens held. */
        int length();

        /** Forgets every token from {@code length} on, keeping the prefix for reuse. */
        void truncate(int length);
    }
}
