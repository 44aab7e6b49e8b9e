package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The checksum a file is verified against before it becomes visible: SHA-256 of the content for LFS files (and
 * ModelScope files), or the git blob id, SHA-1 of {@code "blob <size>\0"} followed by the content, for small files
 * kept in git. Fed while downloading, so verifying costs no second pass over a resumed or streamed file.
 */
final class BlobDigest {
    private final RemoteFile file;
    private final boolean gitBlob;
    private final MessageDigest digest;

    private BlobDigest(RemoteFile file) {
        this.file = file;
        this.gitBlob = file.sha256() == null;
        try {
            this.digest = MessageDigest.getInstance(gitBlob ? "SHA-1" : "SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        reset();
    }

    /** A digest for {@code file}, or null when the hub gave no checksum for it (then only the size is checked). */
    static BlobDigest of(RemoteFile file) {
        return file.sha256() == null && file.gitOid() == null ? null : new BlobDigest(file);
    }

    void reset() {
        digest.reset();
        if (gitBlob) {
            digest.update(("blob " + file.size() + "\0").getBytes(StandardCharsets.US_ASCII));
        }
    }

    void update(ByteBuffer buffer) {
        digest.update(buffer);
    }

    /** Feeds the first {@code length} bytes of a file (the part a resumed download already has). */
    void update(FileChannel channel, long length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        long pos = 0;
        while (pos < length) {
            buf.clear().limit((int) Math.min(buf.capacity(), length - pos));
            int n = channel.read(buf, pos);
            if (n < 0) {
                throw new IOException("file shorter than " + length + " bytes");
            }
            pos += n;
            buf.flip();
            digest.update(buf);
        }
    }

    String expected() {
        return gitBlob ? file.gitOid() : file.sha256();
    }

    String algorithm() {
        return gitBlob ? "git blob id" : "sha256";
    }

    String actual() {
        return HexFormat.of().formatHex(digest.digest());
    }
}
