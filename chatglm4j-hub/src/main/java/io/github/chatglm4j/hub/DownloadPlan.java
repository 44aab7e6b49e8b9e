package io.github.chatglm4j.hub;

import java.nio.file.Path;
import java.util.List;

/**
 * What a pull will fetch, announced before the first byte moves.
 *
 * @param ref          the model
 * @param commit       the revision's commit (ModelScope: the revision name)
 * @param files        every file the engine needs, present or not
 * @param missing      the files still to download
 * @param bytesToFetch bytes of {@code missing} not yet on disk (resumable partial files count as on disk)
 * @param destination  the snapshot directory (or GGUF file) the caller will load
 */
public record DownloadPlan(ModelRef ref, String commit, List<RemoteFile> files, List<RemoteFile> missing,
                           long bytesToFetch, Path destination) {
    public DownloadPlan {
        files = List.copyOf(files);
        missing = List.copyOf(missing);
    }

    /** Total size of the missing files, including what partial files already hold. */
    public long missingBytes() {
        return missing.stream().mapToLong(RemoteFile::size).sum();
    }
}
