package io.github.chatglm4j.format.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/** A Python tuple read from a pickle (kept apart from lists, which pickle as mutable {@code ArrayList}s). */
record PickleTuple(List<Object> items) {

    /** Items may be {@code null} (Python {@code None}), hence no {@code List.copyOf}. */
    PickleTuple {
        items = Collections.unmodifiableList(new ArrayList<>(items));
    }

    static PickleTuple of(Object... items) {
        return new PickleTuple(Arrays.asList(items));
    }

    int size() {
        return items.size();
    }

    Object get(int index) {
        return items.get(index);
    }
}
