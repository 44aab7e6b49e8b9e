package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One repository in the Hugging Face hub cache, laid out as {@code huggingface_hub} lays it out, so either tool
 * reuses what the other downloaded:
 * <pre>
 * HF_HUB_CACHE/
 *   .locks/models--ORG--NAME/ETAG.lock
 *   models--ORG--NAME/
 *     blobs/ETAG                     content, named by its hub ETag (sha256 for LFS files, git blob id otherwise)
 *     blobs/ETAG.incomplete          a download in progress
 *     refs/REVISION                  the commit hash the branch or tag pointed to (no newline)
 *     snapshots/COMMIT/PATH          relative symlink to ../../blobs/ETAG
 * </pre>
 */
final class HfRepoStore implements RepoStore {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path cache;
    private final String repo;
    private final Path dir;

    HfRepoStore(Path cache, String repo) {
        this.cache = cache;
        this.repo = repo;
        this.dir = cache.resolve(folderName(repo));
    }

    /** {@code models--ORG--NAME}. */
    static String folderName(String repo) {
        return "models--" + repo.replace("/", "--");
    }

    Path dir() {
        return dir;
    }

    Path locksDir() {
        return cache.resolve(".locks").resolve(folderName(repo));
    }

    Path blob(String etag) {
        return dir.resolve("blobs").resolve(etag);
    }

    @Override
    public Path snapshot(String commit) {
        return dir.resolve("snapshots").resolve(commit);
    }

    @Override
    public Optional<String> cachedCommit(String revision) {
        if (COMMIT.matcher(revision).matches()) {
            return Files.isDirectory(snapshot(revision)) ? Optional.of(revision) : Optional.empty();
        }
        Path ref = refFile(revision);
        try {
            if (Files.isRegularFile(ref)) {
                String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
                return COMMIT.matcher(commit).matches() ? Optional.of(commit) : Optional.empty();
            }
        } catch (IOException | RuntimeException e) {
            // an unreadable ref is a cache miss
        }
        return Optional.empty();
    }

    private Path refFile(String revision) {
        Path refs = dir.resolve("refs");
        Path ref = refs.resolve(revision).normalize();
        if (!ref.startsWith(refs)) {
            throw new HubException(HubException.Kind.REVISION_NOT_FOUND, "bad revision '" + revision + "'");
        }
        return ref;
    }

    @Override
    public boolean isPresent(String commit, RemoteFile file) {
        Path p = snapshot(commit).resolve(file.path());
        try {
            return Files.isRegularFile(p) && Files.size(p) == file.size();
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public boolean adopt(String commit, RemoteFile file) throws IOException {
        if (file.etag() == null) {
            return false;
        }
        Path blob = blob(file.etag());
        if (Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS) && Files.size(blob) == file.size()) {
            publish(commit, file);
            return true;
        }
        return false;
    }

    @Override
    public Path incomplete(RemoteFile file) {
        return dir.resolve("blobs").resolve(etagOrPath(file) + ".incomplete");
    }

    @Override
    public Path lockFile(RemoteFile file) {
        return locksDir().resolve(etagOrPath(file) + ".lock");
    }

    @Override
    public Path downloadTarget(String commit, RemoteFile file) {
        return blob(etagOrPath(file));
    }

    private static String etagOrPath(RemoteFile file) {
        if (file.etag() == null) {
            throw new HubException(HubException.Kind.PROTOCOL, "the hub listed " + file.path() + " without a blob id");
        }
        return file.etag();
    }

    @Override
    public void publish(String commit, RemoteFile file) throws IOException {
        Path link = snapshot(commit).resolve(file.path());
        Path target = link.getParent().relativize(blob(file.etag()));
        AtomicFiles.symlink(link, target);
    }

    @Override
    public void record(String revision, Remote.Listing listing, java.util.List<RemoteFile> files) throws IOException {
        if (!revision.equals(listing.commit())) {
            AtomicFiles.writeString(refFile(revision), listing.commit());
        }
    }
}
