package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Resolves model references to local files, downloading what is missing into the shared caches (the Hugging Face
 * hub cache, or ModelScope's), resumable and verified, and lists and removes cached models.
 *
 * <pre>{@code
 * ModelHub hub = ModelHub.create(HubOptions.fromEnvironment());
 * Path model = hub.resolve(ModelRef.parse("THUDM/chatglm3-6b", Source.HUGGING_FACE), DownloadListener.NONE);
 * // model is .../models--THUDM--chatglm3-6b/snapshots/<commit>, ready for ChatGLM.load(model)
 * }</pre>
 */
public final class ModelHub {
    /** Kept free beyond the download itself, so the disk is never filled to the last byte. */
    private static final long SPACE_MARGIN = 64L << 20;

    private final HubOptions options;
    private final RetryPolicy retry;
    private final FreeSpace freeSpace;
    /** Files smaller than this go in one stream even with several connections (tests lower it). */
    long parallelMinBytes = BlobTransfer.PARALLEL_MIN_BYTES;

    /** Usable bytes on the file system of a directory (tests pretend a full disk). */
    @FunctionalInterface
    interface FreeSpace {
        long of(Path dir) throws IOException;
    }

    ModelHub(HubOptions options, RetryPolicy retry, FreeSpace freeSpace) {
        this.options = options;
        this.retry = retry;
        this.freeSpace = freeSpace;
    }

    public static ModelHub create(HubOptions options) {
        return new ModelHub(options, RetryPolicy.defaults(), dir -> Files.getFileStore(dir).getUsableSpace());
    }

    public HubOptions options() {
        return options;
    }

    /**
     * The local path of a model: a cached, complete snapshot without asking the hub (no traffic at all, also for
     * snapshots {@code huggingface_hub} wrote); otherwise {@link #pull}. The path is the snapshot directory, or the
     * GGUF file for a file reference.
     *
     * @throws HubException with a message that says what to do
     */
    public Path resolve(ModelRef ref, DownloadListener listener) {
        Optional<Path> local = cached(ref);
        if (local.isPresent()) {
            return local.get();
        }
        if (options.offline()) {
            throw offlineMiss(ref);
        }
        return pull(ref, listener);
    }

    /** The complete cached snapshot (or file) of a reference, if there is one. */
    public Optional<Path> cached(ModelRef ref) {
        RepoStore store = store(ref);
        return store.cachedCommit(ref.revision()).flatMap(commit -> CheckpointFiles.complete(store.snapshot(commit), ref.file()));
    }

    /**
     * Asks the hub what the revision holds and downloads the files the engine needs that are not cached yet
     * (announced to {@code listener} first). In offline mode it only checks the cache.
     */
    public Path pull(ModelRef ref, DownloadListener listener) {
        if (options.offline()) {
            return cached(ref).orElseThrow(() -> offlineMiss(ref));
        }
        try (HubHttp http = new HubHttp(options, retry)) {
            return pull(ref, listener, http);
        }
    }

    private Path pull(ModelRef ref, DownloadListener listener, HubHttp http) {
        Remote remote = ref.source() == Source.MODELSCOPE ? new ModelScopeRemote(http) : new HfRemote(http);
        Remote.Listing listing = remote.list(ref);
        String commit = listing.commit();
        List<RemoteFile> files = CheckpointFiles.select(ref, listing.files());
        RepoStore store = store(ref);
        try {
            List<RemoteFile> missing = new ArrayList<>();
            Map<String, Long> partial = new HashMap<>();
            for (RemoteFile f : files) {
                if (!store.isPresent(commit, f) && !store.adopt(commit, f)) {
                    missing.add(f);
                    partial.put(f.path(), partialBytes(store.incomplete(f), f));
                }
            }
            long alreadyThere = partial.values().stream().mapToLong(Long::longValue).sum();
            long missingBytes = missing.stream().mapToLong(RemoteFile::size).sum();
            Path snapshot = store.snapshot(commit);
            Path destination = ref.file() != null || (files.size() == 1 && files.getFirst().path().endsWith(".gguf"))
                    ? snapshot.resolve(files.getFirst().path()) : snapshot;
            DownloadPlan plan = new DownloadPlan(ref, commit, files, missing, missingBytes - alreadyThere, destination);
            listener.planned(plan);
            checkFreeSpace(ref, plan);
            AtomicLong planBytes = new AtomicLong(alreadyThere);
            BlobTransfer transfer = new BlobTransfer(http, listener, options.connections(), parallelMinBytes);
            for (RemoteFile f : missing) {
                try (CacheLock lock = CacheLock.acquire(store.lockFile(f), listener::note)) {
                    if (store.isPresent(commit, f) || store.adopt(commit, f)) {
                        // another process finished it while we waited for the lock
                        planBytes.addAndGet(f.size() - partial.get(f.path()));
                    } else {
                        long before = partialBytes(store.incomplete(f), f);
                        planBytes.addAndGet(before - partial.get(f.path()));
                        transfer.fetch(new BlobTransfer.Job(ref, f, commit, remote.download(ref, commit, f),
                                store.incomplete(f), store.downloadTarget(commit, f), planBytes));
                        store.publish(commit, f);
                    }
                }
                listener.finished(f);
            }
            store.record(ref.revision(), listing, files);
            return destination;
        } catch (IOException e) {
            throw new HubException(BlobTransfer.isDiskFull(e) ? HubException.Kind.DISK_FULL : HubException.Kind.IO,
                    "cache " + options.cache(ref.source()) + ": " + e.getMessage(), e);
        }
    }

    private static long partialBytes(Path incomplete, RemoteFile f) {
        try {
            long n = Files.isRegularFile(incomplete, LinkOption.NOFOLLOW_LINKS) ? Files.size(incomplete) : 0;
            return n <= f.size() ? n : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private void checkFreeSpace(ModelRef ref, DownloadPlan plan) throws IOException {
        if (plan.bytesToFetch() <= 0) {
            return;
        }
        Path dir = options.cache(ref.source()).toAbsolutePath();
        while (dir != null && !Files.exists(dir)) {
            dir = dir.getParent();
        }
        if (dir == null) {
            return;
        }
        long free = freeSpace.of(dir);
        if (free < plan.bytesToFetch() + SPACE_MARGIN) {
            throw new HubException(HubException.Kind.DISK_FULL, ref + " needs " + gb(plan.bytesToFetch()) + " but "
                    + options.cache(ref.source()) + " has only " + gb(free) + " free: free some space or point "
                    + (ref.source() == Source.MODELSCOPE ? "MODELSCOPE_CACHE" : "HF_HUB_CACHE") + " at a larger disk");
        }
    }

    static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    private HubException offlineMiss(ModelRef ref) {
        String variable = ref.source() == Source.MODELSCOPE ? "offline mode" : "HF_HUB_OFFLINE is set";
        return new HubException(HubException.Kind.OFFLINE, ref + " is not (completely) in the cache "
                + options.cache(ref.source()) + " and " + variable + ": download it first (unset HF_HUB_OFFLINE and run "
                + "'chatglm pull " + ref + "'), or pass a local model directory");
    }

    private RepoStore store(ModelRef ref) {
        return ref.source() == Source.MODELSCOPE
                ? new ModelScopeRepoStore(options.modelScopeCache(), ref.repo())
                : new HfRepoStore(options.hfCache(), ref.repo());
    }

    /** Every cached revision in both caches, by reference. */
    public List<CachedModel> list() {
        List<CachedModel> all = new ArrayList<>();
        try {
            all.addAll(listHuggingFace());
            all.addAll(listModelScope());
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO, "cannot read the cache: " + e.getMessage(), e);
        }
        all.sort(Comparator.comparing(CachedModel::reference).thenComparing(CachedModel::revisionLabel));
        return all;
    }

    private List<CachedModel> listHuggingFace() throws IOException {
        List<CachedModel> out = new ArrayList<>();
        for (Path dir : children(options.hfCache())) {
            String name = dir.getFileName().toString();
            if (!name.startsWith("models--") || !Files.isDirectory(dir)) {
                continue;
            }
            String repo = name.substring("models--".length()).replaceFirst("--", "/");
            Map<String, List<String>> refs = refs(dir.resolve("refs"));
            for (Path snapshot : children(dir.resolve("snapshots"))) {
                String commit = snapshot.getFileName().toString();
                out.add(new CachedModel(Source.HUGGING_FACE, repo, refs.getOrDefault(commit, List.of()), commit,
                        CacheTrees.size(snapshot), snapshot));
            }
        }
        return out;
    }

    /** commit -> the ref names pointing to it ({@code main}, {@code refs/pr/1}). */
    private static Map<String, List<String>> refs(Path refsDir) throws IOException {
        Map<String, List<String>> byCommit = new HashMap<>();
        if (!Files.isDirectory(refsDir)) {
            return byCommit;
        }
        try (Stream<Path> walk = Files.walk(refsDir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".")) {
                    String commit = Files.readString(p, StandardCharsets.UTF_8).strip();
                    byCommit.computeIfAbsent(commit, c -> new ArrayList<>()).add(refsDir.relativize(p).toString().replace('\\', '/'));
                }
            }
        }
        byCommit.values().forEach(l -> l.sort(null));
        return byCommit;
    }

    private List<CachedModel> listModelScope() throws IOException {
        List<CachedModel> out = new ArrayList<>();
        for (Path owner : children(options.modelScopeCache().resolve("models"))) {
            if (owner.getFileName().toString().startsWith(".") || !Files.isDirectory(owner)) {
                continue;
            }
            for (Path model : children(owner)) {
                if (Files.isDirectory(model) && !model.getFileName().toString().startsWith(".")) {
                    String repo = owner.getFileName() + "/" + model.getFileName().toString().replace("___", ".");
                    out.add(new CachedModel(Source.MODELSCOPE, repo, List.of(), null, CacheTrees.size(model), model));
                }
            }
        }
        return out;
    }

    private static List<Path> children(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /**
     * Removes a model from its cache: every revision, or with {@code oneRevision} only {@code ref.revision()}'s
     * snapshot, its refs and the blobs no other snapshot uses. Returns what was removed (empty if nothing was
     * cached).
     */
    public List<CachedModel> remove(ModelRef ref, boolean oneRevision) {
        try {
            List<CachedModel> removed = list().stream()
                    .filter(m -> m.source() == ref.source() && m.repo().equals(ref.repo()))
                    .toList();
            if (ref.source() == Source.MODELSCOPE) {
                var store = new ModelScopeRepoStore(options.modelScopeCache(), ref.repo());
                CacheTrees.delete(store.dir());
                CacheTrees.delete(store.workDir());
                return removed;
            }
            var store = new HfRepoStore(options.hfCache(), ref.repo());
            if (!oneRevision) {
                CacheTrees.delete(store.dir());
                CacheTrees.delete(store.locksDir());
                return removed;
            }
            Optional<String> commit = store.cachedCommit(ref.revision());
            if (commit.isEmpty()) {
                return List.of();
            }
            removed = removed.stream().filter(m -> m.commit().equals(commit.get())).toList();
            CacheTrees.delete(store.snapshot(commit.get()));
            for (var e : refs(store.dir().resolve("refs")).entrySet()) {
                if (e.getKey().equals(commit.get())) {
                    for (String name : e.getValue()) {
                        Files.deleteIfExists(store.dir().resolve("refs").resolve(name));
                    }
                }
            }
            deleteUnusedBlobs(store);
            return removed;
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO, "cannot remove " + ref + ": " + e.getMessage(), e);
        }
    }

    private static void deleteUnusedBlobs(HfRepoStore store) throws IOException {
        Set<Path> used = new HashSet<>();
        Path snapshots = store.dir().resolve("snapshots");
        if (Files.isDirectory(snapshots)) {
            try (Stream<Path> walk = Files.walk(snapshots)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    if (Files.isSymbolicLink(p)) {
                        used.add(p.getParent().resolve(Files.readSymbolicLink(p)).normalize());
                    }
                }
            }
        }
        for (Path blob : children(store.dir().resolve("blobs"))) {
            if (!blob.getFileName().toString().endsWith(".incomplete") && !used.contains(blob.normalize())) {
                Files.deleteIfExists(blob);
            }
        }
        if (children(snapshots).isEmpty()) {
            CacheTrees.delete(store.dir());
            CacheTrees.delete(store.locksDir());
        }
    }
}
