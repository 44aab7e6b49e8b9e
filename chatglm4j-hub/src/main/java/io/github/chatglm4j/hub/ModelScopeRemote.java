package io.github.chatglm4j.hub;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * ModelScope's API:
 * <ul>
 *   <li>{@code GET /api/v1/models/OWNER/NAME/repo/files?Revision=REV&Recursive=true}:
 *       {@code {"Code": 200, "Data": {"Files": [{"Path", "Type": "blob"|"tree", "Size", "Sha256"}]}}};</li>
 *   <li>{@code GET /api/v1/models/OWNER/NAME/repo?Revision=REV&FilePath=PATH}: the file (Range supported).</li>
 * </ul>
 * Errors come as HTTP 4xx or as a JSON {@code Code} other than 200 with a {@code Message}.
 */
final class ModelScopeRemote implements Remote {
    private final HubHttp http;
    private final URI endpoint;

    ModelScopeRemote(HubHttp http) {
        this.http = http;
        this.endpoint = http.options().modelScopeEndpoint();
    }

    @Override
    public Listing list(ModelRef ref) {
        JsonNode answer = http.getJson(URI.create(endpoint + "/api/v1/models/" + ref.repo() + "/repo/files?Revision="
                + Remote.encode(ref.revision()) + "&Recursive=true"), new HubHttp.Context(ref, null));
        int code = answer.path("Code").asInt(200);
        if (code != 200 || !answer.path("Data").path("Files").isArray()) {
            String message = answer.path("Message").asText("no file list");
            HubException.Kind kind = message.toLowerCase(java.util.Locale.ROOT).contains("revision")
                    ? HubException.Kind.REVISION_NOT_FOUND : HubException.Kind.REPO_NOT_FOUND;
            throw new HubException(kind, ref + ": " + endpoint + " says: " + message.strip() + " (check the model id and revision)");
        }
        List<RemoteFile> files = new ArrayList<>();
        java.util.Map<String, String> revisions = new java.util.HashMap<>();
        for (JsonNode f : answer.path("Data").path("Files")) {
            if ("tree".equals(f.path("Type").asText())) {
                continue;
            }
            String sha = f.path("Sha256").asText("");
            files.add(Remote.remoteFile(ref, () -> new RemoteFile(f.path("Path").asText(f.path("Name").asText()), f.path("Size").asLong(),
                    sha.isEmpty() ? null : sha, null)));
            if (f.hasNonNull("Revision")) {
                revisions.put(files.getLast().path(), f.path("Revision").asText());
            }
        }
        return new Listing(ref.revision(), files, revisions);
    }

    @Override
    public URI download(ModelRef ref, String commit, RemoteFile file) {
        return URI.create(endpoint + "/api/v1/models/" + ref.repo() + "/repo?Revision=" + Remote.encode(commit)
                + "&FilePath=" + Remote.encode(file.path()));
    }
}
