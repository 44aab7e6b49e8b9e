package io.github.chatglm4j.hub;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * The Hugging Face Hub API (and mirrors of it such as hf-mirror.com):
 * <ul>
 *   <li>{@code GET /api/models/ORG/NAME/revision/REV?blobs=true}: the commit ({@code sha}) and {@code siblings}
 *       with {@code rfilename}, {@code size}, {@code blobId} (git blob id) and {@code lfs.sha256};</li>
 *   <li>{@code GET /api/models/ORG/NAME/tree/COMMIT?recursive=true} when a server leaves the sizes out: entries
 *       with {@code path}, {@code size}, {@code oid} and {@code lfs.oid};</li>
 *   <li>{@code GET /ORG/NAME/resolve/COMMIT/PATH}: the file, usually a redirect to a CDN, with the hub's
 *       {@code X-Repo-Commit}, {@code X-Linked-Etag} and {@code X-Linked-Size} on the first hop.</li>
 * </ul>
 */
final class HfRemote implements Remote {
    private final HubHttp http;
    private final URI endpoint;

    HfRemote(HubHttp http) {
        this.http = http;
        this.endpoint = http.options().hfEndpoint();
    }

    @Override
    public Listing list(ModelRef ref) {
        var context = new HubHttp.Context(ref, null);
        JsonNode info = http.getJson(URI.create(endpoint + "/api/models/" + ref.repo() + "/revision/"
                + Remote.encode(ref.revision()) + "?blobs=true"), context);
        String commit = info.path("sha").asText(null);
        if (commit == null || !commit.matches("[0-9a-f]{40}")) {
            throw new HubException(HubException.Kind.PROTOCOL, endpoint + " gave no commit for " + ref
                    + " (is HF_ENDPOINT a Hugging Face mirror?)");
        }
        List<RemoteFile> files = new ArrayList<>();
        boolean complete = info.path("siblings").isArray();
        for (JsonNode s : info.path("siblings")) {
            if (!s.has("size") || (!s.has("blobId") && !s.path("lfs").has("sha256"))) {
                complete = false;
                break;
            }
            JsonNode lfs = s.path("lfs");
            files.add(Remote.remoteFile(ref, () -> new RemoteFile(s.path("rfilename").asText(), s.path("size").asLong(),
                    lfs.has("sha256") ? lfs.path("sha256").asText() : null, s.path("blobId").asText(null))));
        }
        if (!complete) {
            files = tree(ref, commit, context);
        }
        return new Listing(commit, files, java.util.Map.of());
    }

    /** The file list of the tree API, for servers whose model info has no sizes. */
    private List<RemoteFile> tree(ModelRef ref, String commit, HubHttp.Context context) {
        JsonNode entries = http.getJson(URI.create(endpoint + "/api/models/" + ref.repo() + "/tree/" + commit
                + "?recursive=true"), context);
        if (!entries.isArray()) {
            throw new HubException(HubException.Kind.PROTOCOL, endpoint + " gave no file list for " + ref);
        }
        List<RemoteFile> files = new ArrayList<>();
        for (JsonNode e : entries) {
            if (!"file".equals(e.path("type").asText())) {
                continue;
            }
            JsonNode lfs = e.path("lfs");
            files.add(Remote.remoteFile(ref, () -> new RemoteFile(e.path("path").asText(), e.path("size").asLong(),
                    lfs.has("oid") ? lfs.path("oid").asText() : null, e.path("oid").asText(null))));
        }
        return files;
    }

    @Override
    public URI download(ModelRef ref, String commit, RemoteFile file) {
        return URI.create(endpoint + "/" + ref.repo() + "/resolve/" + commit + "/" + Remote.encodePath(file.path()));
    }
}
