package io.github.chatglm4j.hub;

import io.github.chatglm4j.hub.testing.FakeHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The cache is the one {@code huggingface_hub} writes, as its documentation describes it for reimplementations
 * (huggingface.co/docs/hub/local-cache): {@code models--ORG--NAME/{blobs,refs,snapshots}}, blobs named by ETag
 * (sha256 for LFS files, the git blob id otherwise), snapshot entries relative symlinks to {@code ../../blobs/ETAG},
 * {@code refs/main} holding the commit without a newline, locks in {@code .locks/models--ORG--NAME/ETAG.lock}.
 * Blob names are checked against oracles that are not this code: the sha256 the fixtures README states for
 * tokenizer.model, and {@code git hash-object} for the git blob id of config.json.
 */
class CacheLayoutTest {
    private static final String TOKENIZER_SHA256 = "e7dc4c393423b76e4373e5157ddc34803a0189ba96b21ddbb40269d31468a6f2";
    private final FakeHub fake = new FakeHub();

    @AfterEach
    void close() {
        fake.close();
    }

    @Test
    void theCacheIsLaidOutAsHuggingfaceHubLaysItOut(@TempDir Path dir) throws Exception {
        fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        Hubs.hub(Hubs.options(fake, dir)).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);

        String configOid = gitHashObject(Hubs.tiny().resolve("config.json"));
        String indexOid = gitHashObject(Hubs.tiny().resolve("model.safetensors.index.json"));
        Map<String, String> links = new TreeMap<>(Map.of(
                "config.json", "../../blobs/" + configOid,
                "tokenizer.model", "../../blobs/" + TOKENIZER_SHA256,
                "model.safetensors.index.json", "../../blobs/" + indexOid,
                "model-00001-of-00002.safetensors", "../../blobs/" + sha256(Hubs.tiny().resolve("model-00001-of-00002.safetensors")),
                "model-00002-of-00002.safetensors", "../../blobs/" + sha256(Hubs.tiny().resolve("model-00002-of-00002.safetensors"))));

        Path root = dir.resolve("hf");
        Path repo = root.resolve("models--THUDM--chatglm3-6b");
        assertThat(tree(repo)).containsExactlyInAnyOrderElementsOf(Stream.concat(Stream.of(
                        "blobs/" + configOid, "blobs/" + indexOid, "blobs/" + TOKENIZER_SHA256, "refs/main"),
                links.entrySet().stream().flatMap(e -> Stream.of("snapshots/" + Hubs.COMMIT + "/" + e.getKey(),
                        "blobs/" + e.getValue().substring("../../blobs/".length())))).distinct().toList());
        assertThat(Files.readAllBytes(repo.resolve("refs/main"))).asString(StandardCharsets.US_ASCII).isEqualTo(Hubs.COMMIT);
        for (var e : links.entrySet()) {
            Path link = repo.resolve("snapshots/" + Hubs.COMMIT + "/" + e.getKey());
            assertThat(link).isSymbolicLink();
            assertThat(Files.readSymbolicLink(link)).hasToString(e.getValue());
            assertThat(link).hasSameBinaryContentAs(Hubs.tiny().resolve(e.getKey()));
        }
        for (String etag : List.of(configOid, TOKENIZER_SHA256)) {
            assertThat(root.resolve(".locks/models--THUDM--chatglm3-6b/" + etag + ".lock")).isRegularFile();
        }
    }

    @Test
    void aCacheWrittenByHuggingfaceHubIsUsedWithoutAnyTraffic(@TempDir Path dir) throws Exception {
        // what transformers' from_pretrained leaves behind for a repo with .bin weights only
        Path repo = dir.resolve("hf/models--THUDM--chatglm3-6b");
        for (String name : List.of("config.json", "tokenizer.model", "pytorch_model.bin", "tokenizer_config.json")) {
            Path source = Hubs.tiny().resolve(name);
            String etag = name.endsWith(".json") ? gitHashObject(source) : sha256(source);
            Files.createDirectories(repo.resolve("blobs"));
            Files.copy(source, repo.resolve("blobs/" + etag));
            Path link = repo.resolve("snapshots/" + Hubs.COMMIT + "/" + name);
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, Path.of("../../blobs/" + etag));
        }
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), Hubs.COMMIT);

        Path snapshot = Hubs.hub(Hubs.options(fake, dir)).resolve(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        assertThat(snapshot).isEqualTo(repo.resolve("snapshots/" + Hubs.COMMIT));
        assertThat(fake.requests).isEmpty();
    }

    @Test
    void blobsAnotherRevisionAlreadyHasAreLinkedNotDownloaded(@TempDir Path dir) throws Exception {
        FakeHub.Repo repo = fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        ModelHub hub = Hubs.hub(Hubs.options(fake, dir));
        hub.pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        String newCommit = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        FakeHub.Repo next = new FakeHub.Repo(Hubs.REPO, newCommit);
        repo.files.forEach(next::file);
        next.file("config.json", (new String(repo.files.get("config.json"), StandardCharsets.UTF_8) + " ").getBytes(StandardCharsets.UTF_8));
        fake.addRepo(next);
        int before = fake.requests.size();
        var recorder = new Hubs.Recorder();
        Path snapshot = hub.pull(Hubs.ref(Hubs.REPO), recorder);
        assertThat(snapshot).hasFileName(newCommit);
        assertThat(recorder.plans.getFirst().missing()).extracting(RemoteFile::path).containsExactly("config.json");
        assertThat(fake.requests.subList(before, fake.requests.size())).filteredOn(FakeHub.Request::isFileBody)
                .extracting(FakeHub.Request::path).containsExactly("/THUDM/chatglm3-6b/resolve/" + newCommit + "/config.json");
        assertThat(Files.readString(dir.resolve("hf/models--THUDM--chatglm3-6b/refs/main"))).isEqualTo(newCommit);
    }

    @Test
    void offlineModeAnswersFromTheCacheOrSaysWhatToDo(@TempDir Path dir) {
        fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        HubOptions offline = Hubs.options(fake, dir).withOffline(true);
        assertThatThrownBy(() -> Hubs.hub(offline).resolve(Hubs.ref(Hubs.REPO), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.OFFLINE);
                    assertThat(e.getMessage()).contains("THUDM/chatglm3-6b is not (completely) in the cache " + dir.resolve("hf"))
                            .contains("HF_HUB_OFFLINE is set").contains("chatglm pull THUDM/chatglm3-6b");
                });
        assertThat(fake.requests).isEmpty();

        Path online = Hubs.hub(Hubs.options(fake, dir)).resolve(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        int before = fake.requests.size();
        assertThat(Hubs.hub(offline).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE)).isEqualTo(online);
        assertThat(Hubs.hub(offline).resolve(Hubs.ref(Hubs.REPO + "@" + Hubs.COMMIT), DownloadListener.NONE)).isEqualTo(online);
        assertThat(fake.requests).hasSize(before);
    }

    @Test
    void modelsListsEachCachedRevisionAndRmRemovesIt(@TempDir Path dir) throws IOException {
        fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        fake.addRepo("THUDM/chatglm3-6b-32k", Hubs.COMMIT, Hubs.fixtures().resolve("tiny-chatglm3-32k"));
        ModelHub hub = Hubs.hub(Hubs.options(fake, dir));
        Path six = hub.pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        hub.pull(Hubs.ref("THUDM/chatglm3-6b-32k"), DownloadListener.NONE);
        hub.pull(Hubs.ref("modelscope:THUDM/chatglm3-6b"), DownloadListener.NONE);

        long sixBytes = 0;
        for (String f : List.of("config.json", "tokenizer.model", "model.safetensors.index.json",
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            sixBytes += Files.size(Hubs.tiny().resolve(f));
        }
        List<CachedModel> models = hub.list();
        assertThat(models).extracting(CachedModel::reference)
                .containsExactly("THUDM/chatglm3-6b", "THUDM/chatglm3-6b-32k", "modelscope:THUDM/chatglm3-6b");
        CachedModel first = models.getFirst();
        assertThat(first.revisions()).containsExactly("main");
        assertThat(first.commit()).isEqualTo(Hubs.COMMIT);
        assertThat(first.bytes()).isEqualTo(sixBytes);
        assertThat(first.path()).isEqualTo(six);
        assertThat(models.get(2).bytes()).isEqualTo(sixBytes);

        assertThat(hub.remove(Hubs.ref(Hubs.REPO), false)).extracting(CachedModel::path).containsExactly(six);
        assertThat(dir.resolve("hf/models--THUDM--chatglm3-6b")).doesNotExist();
        assertThat(dir.resolve("hf/.locks/models--THUDM--chatglm3-6b")).doesNotExist();
        assertThat(hub.remove(Hubs.ref("modelscope:THUDM/chatglm3-6b"), false)).hasSize(1);
        assertThat(hub.list()).extracting(CachedModel::reference).containsExactly("THUDM/chatglm3-6b-32k");
        assertThat(hub.remove(Hubs.ref(Hubs.REPO), false)).as("nothing left to remove").isEmpty();
    }

    @Test
    void rmOfOneRevisionKeepsTheBlobsAnotherRevisionUses(@TempDir Path dir) throws IOException {
        FakeHub.Repo repo = fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        String other = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        repo.refs.put("v2", other);
        ModelHub hub = Hubs.hub(Hubs.options(fake, dir));
        hub.pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        FakeHub.Repo second = new FakeHub.Repo(Hubs.REPO, other);
        repo.files.forEach(second::file);
        second.file("config.json", "{\"changed\": true}".getBytes(StandardCharsets.UTF_8));
        second.refs.put("v2", other);
        fake.addRepo(second);
        hub.pull(Hubs.ref(Hubs.REPO + "@v2"), DownloadListener.NONE);

        hub.remove(Hubs.ref(Hubs.REPO + "@v2"), true);
        Path repoDir = dir.resolve("hf/models--THUDM--chatglm3-6b");
        assertThat(repoDir.resolve("snapshots/" + other)).doesNotExist();
        assertThat(repoDir.resolve("refs/v2")).doesNotExist();
        assertThat(repoDir.resolve("blobs/" + FakeHub.gitOid(second.files.get("config.json")))).doesNotExist();
        assertThat(hub.cached(Hubs.ref(Hubs.REPO))).as("main still complete").isPresent();
    }

    @Test
    void modelScopeKeepsPlainFilesInItsOwnCache(@TempDir Path dir) {
        fake.addRepo("ZhipuAI/chatglm3-6b", Hubs.COMMIT, Hubs.tiny());
        Path model = Hubs.hub(Hubs.options(fake, dir)).resolve(ModelRef.parse("modelscope:ZhipuAI/chatglm3-6b", Source.HUGGING_FACE), DownloadListener.NONE);
        assertThat(model).isEqualTo(dir.resolve("ms/models/ZhipuAI/chatglm3-6b"));
        assertThat(model.resolve("model-00001-of-00002.safetensors")).isRegularFile().hasSameBinaryContentAs(Hubs.tiny().resolve("model-00001-of-00002.safetensors"));
        assertThat(model.resolve("pytorch_model.bin")).doesNotExist();
        assertThat(fake.requests).allMatch(r -> r.path().startsWith("/api/v1/models/ZhipuAI/chatglm3-6b/"));
        assertThat(new ModelScopeRepoStore(dir.resolve("ms"), "ZhipuAI/chatglm3.6b").dir()).as("dots as ___, like the ModelScope SDK")
                .isEqualTo(dir.resolve("ms/models/ZhipuAI/chatglm3___6b"));
    }

    /** The SDK's metadata pickles, read back by Python's own pickle module (the oracle). */
    @Test
    void modelScopeMetadataIsWhatTheSdkReads(@TempDir Path dir) throws Exception {
        fake.addRepo("ZhipuAI/chatglm3-6b", Hubs.COMMIT, Hubs.tiny());
        Path model = Hubs.hub(Hubs.options(fake, dir)).pull(ModelRef.parse("modelscope:ZhipuAI/chatglm3-6b", Source.HUGGING_FACE), DownloadListener.NONE);
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", "import pickle, json, sys; "
                    + "print(json.dumps([pickle.load(open(f, 'rb')) for f in sys.argv[1:]]))",
                    model.resolve(".mdl").toString(), model.resolve(".msc").toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("python3 is not installed: the pickle oracle for .mdl/.msc is skipped");
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as("python3: %s", out).isZero();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var expected = json.createArrayNode();
        expected.addObject().put("id", "ZhipuAI/chatglm3-6b");
        var keys = expected.addArray();
        for (String f : List.of("config.json", "tokenizer.model", "model.safetensors.index.json",
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            keys.addObject().put("Path", f).put("Revision", Hubs.COMMIT);
        }
        assertThat(json.readTree(out)).isEqualTo(expected);
    }

    private static List<String> tree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> !Files.isDirectory(p) || Files.isSymbolicLink(p)).map(p -> root.relativize(p).toString()).toList();
        }
    }

    static String sha256(Path file) throws IOException {
        return FakeHub.sha256(Files.readAllBytes(file));
    }

    /** The git blob id, computed by git itself. */
    static String gitHashObject(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("git", "hash-object", "--no-filters", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as("git hash-object: %s", out).isZero();
        return out;
    }
}
