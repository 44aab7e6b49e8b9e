package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One model in the ModelScope cache, where its SDK keeps it: plain files in
 * {@code MODELSCOPE_CACHE/models/OWNER/NAME} (dots in the name written as {@code ___}), one version per model.
 * Partial downloads and locks live beside it in {@code models/.chatglm4j/}, which the SDK does not look at. Like
 * the SDK, it writes {@code .mdl} (the model id) and, unless the SDK's own is there, {@code .msc} (the cached files
 * with the commit that last changed each), so the SDK finds these files cached.
 */
final class ModelScopeRepoStore implements RepoStore {
    private final Path dir;
    private final Path work;
    private final String repo;

    ModelScopeRepoStore(Path cache, String repo) {
        this.repo = repo;
        String[] parts = repo.split("/", 2);
        Path models = cache.resolve("models");
        this.dir = models.resolve(parts[0]).resolve(parts[1].replace(".", "___"));
        this.work = models.resolve(".chatglm4j").resolve(parts[0]).resolve(parts[1]);
    }

    Path dir() {
        return dir;
    }

    Path workDir() {
        return work;
    }

    @Override
    public Path snapshot(String commit) {
        return dir;
    }

    @Override
    public Optional<String> cachedCommit(String revision) {
        return Files.isDirectory(dir) ? Optional.of(revision) : Optional.empty();
    }

    @Override
    public boolean isPresent(String commit, RemoteFile file) {
        Path p = dir.resolve(file.path());
        try {
            return Files.isRegularFile(p) && Files.size(p) == file.size();
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public boolean adopt(String commit, RemoteFile file) {
        return false;
    }

    @Override
    public Path incomplete(RemoteFile file) {
        return work.resolve(file.path() + ".incomplete");
    }

    @Override
    public Path lockFile(RemoteFile file) {
        return work.resolve(file.path() + ".lock");
    }

    @Override
    public Path downloadTarget(String commit, RemoteFile file) {
        return dir.resolve(file.path());
    }

    @Override
    public void publish(String commit, RemoteFile file) {
        // the download was moved to its final name already
    }

    @Override
    public void record(String revision, Remote.Listing listing, java.util.List<RemoteFile> files) throws IOException {
        // one version per model, as in the ModelScope SDK: no refs; its metadata, for the SDK's cache checks
        AtomicFiles.writeBytes(dir.resolve(".mdl"), PicklePlain.dump(java.util.Map.of("id", repo)));
        Path msc = dir.resolve(".msc");
        if (!Files.exists(msc)) {
            java.util.List<java.util.Map<String, String>> keys = new java.util.ArrayList<>();
            for (RemoteFile f : files) {
                var key = new java.util.LinkedHashMap<String, String>();
                key.put("Path", f.path());
                key.put("Revision", listing.fileRevisions().getOrDefault(f.path(), revision));
                keys.add(key);
            }
            AtomicFiles.writeBytes(msc, PicklePlain.dump(keys));
        }
    }
}
