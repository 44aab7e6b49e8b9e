package io.github.chatglm4j.hub;

/**
 * One file of a repository revision as the hub lists it.
 *
 * @param path   path in the repository ({@code model-00001-of-00007.safetensors})
 * @param size   bytes
 * @param sha256 hex SHA-256 of the content for Git LFS files (and every ModelScope file), or null
 * @param gitOid hex git blob id (SHA-1 of {@code "blob <size>\0" + content}) for files stored in git, or null
 */
public record RemoteFile(String path, long size, String sha256, String gitOid) {
    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");
    private static final java.util.regex.Pattern GIT_OID = java.util.regex.Pattern.compile("[0-9a-f]{40}");

    /**
     * Checks what a server sent before it becomes a path: a relative path without {@code ..}, hex checksums.
     *
     * @throws IllegalArgumentException for anything else
     */
    public RemoteFile {
        if (path == null || path.isEmpty() || path.startsWith("/") || path.contains("\\") || path.contains("\0")
                || java.util.Arrays.asList(path.split("/")).contains("..")) {
            throw new IllegalArgumentException("unsafe file path '" + path + "'");
        }
        if (size < 0) {
            throw new IllegalArgumentException(path + ": negative size " + size);
        }
        sha256 = sha256 == null ? null : sha256.toLowerCase(java.util.Locale.ROOT);
        gitOid = gitOid == null ? null : gitOid.toLowerCase(java.util.Locale.ROOT);
        if (sha256 != null && !SHA256.matcher(sha256).matches() || gitOid != null && !GIT_OID.matcher(gitOid).matches()) {
            throw new IllegalArgumentException(path + ": checksum is not hex ('" + sha256 + "', '" + gitOid + "')");
        }
    }

    /**
     * The name of the file's blob in the Hugging Face cache: its ETag on the hub, which is the SHA-256 for LFS
     * files and the git blob id otherwise.
     */
    public String etag() {
        return sha256 != null ? sha256 : gitOid;
    }
}
