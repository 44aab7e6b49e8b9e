package io.github.chatglm4j.format;

import java.util.List;
import java.util.Optional;

/** Named tensors from one or more checkpoint files, all memory-mapped; closing unmaps them. */
public interface TensorSource extends AutoCloseable {

    Optional<TensorEntry> tensor(String name);

    /** All tensors, in file order. */
    List<TensorEntry> tensors();

    /** The file or directory the tensors come from, for error messages. */
    java.nio.file.Path location();

    /** A description of where the tensors come from, for messages ("3 safetensors shards in DIR"). */
    String description();

    @Override
    void close();
}
