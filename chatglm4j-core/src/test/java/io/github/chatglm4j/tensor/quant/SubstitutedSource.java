package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A checkpoint with some tensors replaced by name (the base stays owned by the caller). */
record SubstitutedSource(TensorSource base, Map<String, TensorEntry> replaced) implements TensorSource {
    @Override
    public Optional<TensorEntry> tensor(String name) {
        TensorEntry r = replaced.get(name);
        return r != null ? Optional.of(r) : base.tensor(name);
    }

    @Override
    public List<TensorEntry> tensors() {
        return base.tensors().stream().map(t -> replaced.getOrDefault(t.name(), t)).toList();
    }

    @Override
    public Path location() {
        return base.location();
    }

    @Override
    public String description() {
        return base.description() + " with " + replaced.size() + " tensors replaced";
    }

    @Override
    public void close() {
    }
}
