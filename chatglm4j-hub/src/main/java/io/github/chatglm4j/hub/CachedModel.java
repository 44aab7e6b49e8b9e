package io.github.chatglm4j.hub;

import java.nio.file.Path;
import java.util.List;

/**
 * One cached revision of a model.
 *
 * @param source    which cache it is in
 * @param repo      {@code ORG/NAME}
 * @param revisions the branches and tags that point to it (may be empty for a revision fetched by commit)
 * @param commit    the commit hash (null in the ModelScope cache, which keeps one version per model)
 * @param bytes     disk space of its files (shared blobs counted in each revision that uses them)
 * @param path      the snapshot directory
 */
public record CachedModel(Source source, String repo, List<String> revisions, String commit, long bytes, Path path) {
    public CachedModel {
        revisions = List.copyOf(revisions);
    }

    /** What a user types to use it: {@code ORG/NAME} or {@code modelscope:ORG/NAME}. */
    public String reference() {
        return (source == Source.MODELSCOPE ? "modelscope:" : "") + repo;
    }

    /** The branch names, else the short commit. */
    public String revisionLabel() {
        if (!revisions.isEmpty()) {
            return String.join(",", revisions);
        }
        return commit == null ? "-" : commit.substring(0, Math.min(12, commit.length()));
    }
}
