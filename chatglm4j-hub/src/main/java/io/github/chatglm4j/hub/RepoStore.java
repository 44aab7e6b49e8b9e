package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Where one repository's files live on disk, in the layout of its source's own tools. */
sealed interface RepoStore permits HfRepoStore, ModelScopeRepoStore {
    /** The directory the loader reads for {@code commit} (a snapshot). */
    Path snapshot(String commit);

    /** The commit a cached revision points to, without asking the hub. */
    Optional<String> cachedCommit(String revision);

    /** Whether {@code file} of {@code commit} is visible and complete. */
    boolean isPresent(String commit, RemoteFile file);

    /** Makes {@code file} visible from content already on disk (a blob another revision shares); false if none. */
    boolean adopt(String commit, RemoteFile file) throws IOException;

    /** The partial download of {@code file}. */
    Path incomplete(RemoteFile file);

    /** The lock file guarding the download of {@code file}. */
    Path lockFile(RemoteFile file);

    /** Where the verified download is moved to. */
    Path downloadTarget(String commit, RemoteFile file);

    /** After the move: makes the downloaded file visible in the snapshot. */
    void publish(String commit, RemoteFile file) throws IOException;

    /** Remembers that {@code revision} now means the listing's commit, whose {@code files} are all present. */
    void record(String revision, Remote.Listing listing, java.util.List<RemoteFile> files) throws IOException;
}
