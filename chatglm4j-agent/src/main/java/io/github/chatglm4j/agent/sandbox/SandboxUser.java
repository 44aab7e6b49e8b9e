package io.github.chatglm4j.agent.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Who the sandbox runs as on the host. As a normal user, the sandbox runs as that user (bubblewrap maps it to
 * {@code nobody} inside). As root it runs as {@code nobody} outside too: the kernel exempts root from the process
 * limit, so a fork bomb would not be stopped, and {@code nobody} owns nothing on the host. The folders it binds must
 * then be reachable by {@code nobody}.
 */
final class SandboxUser {
    private SandboxUser() {
    }

    /** The JVM's effective uid is 0 (the owner of /proc/self is the effective user). */
    static boolean jvmIsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Makes {@code dir} usable by the sandbox user: created if missing; when the sandbox runs as {@code nobody}, owned by
     * it (if root owned it) and reachable through searchable parents.
     *
     * @param writable the sandbox writes into it (the data folder), rather than only reading it
     */
    static void prepare(Path dir, boolean dropRoot, boolean writable) {
        try {
            Files.createDirectories(dir);
            if (!dropRoot) {
                return;
            }
            Path real = dir.toRealPath();
            for (Path p = real.getParent(); p != null; p = p.getParent()) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE) && ownerUid(p) != BubblewrapCommand.SANDBOX_UID) {
                    throw new SandboxUnavailableException("the sandbox runs as user nobody (uid 65534) because chatglm "
                            + "runs as root, and nobody cannot reach " + real + ": " + p + " is not searchable by others "
                            + "(chmod o+x " + p + ", or use a folder under /tmp)");
                }
            }
            if (writable && ownerUid(real) == 0) {
                Files.setAttribute(real, "unix:uid", BubblewrapCommand.SANDBOX_UID, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(real, "unix:gid", BubblewrapCommand.SANDBOX_UID, LinkOption.NOFOLLOW_LINKS);
            }
        } catch (IOException e) {
            throw new SandboxUnavailableException("cannot prepare " + dir + " for the sandbox: " + e.getMessage(), e);
        }
    }

    static int ownerUid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }
}
