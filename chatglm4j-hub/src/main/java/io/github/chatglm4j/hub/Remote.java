package io.github.chatglm4j.hub;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A hub's API: the files of a revision, and where to download each. */
sealed interface Remote permits HfRemote, ModelScopeRemote {
    /** The commit a revision points to and its files with sizes and checksums. */
    Listing list(ModelRef ref);

    /** The URL to GET {@code file} of {@code commit} from. */
    URI download(ModelRef ref, String commit, RemoteFile file);

    /**
     * One revision of a repository.
     *
     * @param commit        the commit hash (ModelScope: the revision as given)
     * @param files         every file, with sizes and checksums
     * @param fileRevisions path -> the commit that last changed the file, where the hub says (ModelScope)
     */
    record Listing(String commit, List<RemoteFile> files, java.util.Map<String, String> fileRevisions) {
        public Listing {
            files = List.copyOf(files);
            fileRevisions = java.util.Map.copyOf(fileRevisions);
        }
    }

    /** A listed file, or a protocol error naming the entry the server got wrong. */
    static RemoteFile remoteFile(ModelRef ref, java.util.function.Supplier<RemoteFile> entry) {
        try {
            return entry.get();
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Kind.PROTOCOL, ref + ": the hub listed a file this client refuses: " + e.getMessage());
        }
    }

    /** Percent-encodes one path segment or query value (spaces as %20, not +). */
    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Percent-encodes a path, keeping its slashes. */
    static String encodePath(String path) {
        var sb = new StringBuilder();
        for (String segment : path.split("/", -1)) {
            sb.append(sb.isEmpty() ? "" : "/").append(encode(segment));
        }
        return sb.toString();
    }
}
