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
    /**
     * The name of the file's blob in the Hugging Face cache: its ETag on the hub, which is the SHA-256 for LFS
     * files and the git blob id otherwise.
     */
    public String etag() {
        return sha256 != null ? sha256 : gitOid;
    }
}
