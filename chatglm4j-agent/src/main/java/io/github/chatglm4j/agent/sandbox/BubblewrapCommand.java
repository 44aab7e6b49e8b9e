package io.github.chatglm4j.agent.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one place that says what the sandbox is: the bubblewrap command line around a program, then {@code prlimit}
 * inside it. The program sees {@code /usr} and a few files of {@code /etc} read-only, its own {@code /tmp},
 * {@code /dev} and {@code /proc}, the conversation's folder at {@code /mnt/data}, and nothing else of the host.
 */
final class BubblewrapCommand {
    /** Where the conversation's folder appears inside (the path ChatGLM3's code-interpreter prompt names). */
    static final String DATA = "/mnt/data";
    /** The sandbox user inside, and outside too when the JVM runs as root: {@code nobody}. */
    static final int SANDBOX_UID = 65534;

    /** Top-level directories that merged-/usr systems make symlinks into /usr; bound or linked as the host has them. */
    private static final List<String> ROOT_LINKS = List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");
    /** The only files of /etc the runtime needs: the loader cache, the library alternatives, matplotlib and fonts, time zone. */
    private static final List<String> ETC = List.of("/etc/ld.so.cache", "/etc/alternatives", "/etc/matplotlibrc",
            "/etc/fonts", "/etc/localtime");
    private static final long DEV_SHM_BYTES = 16L * 1024 * 1024;
    private static final long CPU_GRACE_SECONDS = 5;

    private BubblewrapCommand() {
    }

    /**
     * The full command line.
     *
     * @param dropRoot      the JVM runs as root: start bubblewrap as {@code nobody}, because the kernel never applies
     *                      RLIMIT_NPROC to processes that are root outside the user namespace
     * @param dataDir       the host folder bound read-write at {@link #DATA}
     * @param readOnlyBinds more host paths to show read-only (host path to path inside)
     * @param command       the program and its arguments, as seen inside
     */
    static List<String> build(SandboxConfig config, boolean dropRoot, Path dataDir, Map<Path, String> readOnlyBinds,
                              List<String> command) {
        var a = new ArrayList<String>();
        if (dropRoot) {
            a.addAll(List.of(config.setpriv().toString(),
                    "--reuid=" + SANDBOX_UID, "--regid=" + SANDBOX_UID, "--clear-groups", // an unprivileged host user
                    "--no-new-privs", // nothing inside can gain privileges through setuid files
                    "--"));
        }
        a.add(config.bwrap().toString());
        a.add("--unshare-all");          // new user, pid, network, ipc, uts and cgroup namespaces: no network but loopback
        a.add("--unshare-user");         // explicit, so that --disable-userns applies
        a.add("--disable-userns");       // code inside cannot make nested user namespaces (e.g. to escape the limits)
        a.addAll(List.of("--uid", String.valueOf(SANDBOX_UID), "--gid", String.valueOf(SANDBOX_UID))); // nobody inside
        a.addAll(List.of("--hostname", "sandbox"));
        a.add("--die-with-parent");      // the sandbox goes when the JVM goes, even on kill -9
        a.add("--new-session");          // no access to the JVM's terminal (TIOCSTI); its own process group for SIGINT
        a.addAll(List.of("--cap-drop", "ALL")); // no capabilities, even inside the namespace
        a.addAll(List.of("--ro-bind", "/usr", "/usr")); // the Python runtime and Debian's numpy/pandas/matplotlib, read-only
        for (String dir : ROOT_LINKS) {
            Path p = Path.of(dir);
            if (Files.isSymbolicLink(p)) {
                a.addAll(List.of("--symlink", readLink(p), dir)); // merged /usr: the same link as on the host
            } else if (Files.isDirectory(p)) {
                a.addAll(List.of("--ro-bind", dir, dir));
            }
        }
        for (String file : ETC) {
            a.addAll(List.of("--ro-bind-try", file, file)); // no passwd, shadow, ssh keys, resolver config
        }
        a.addAll(List.of("--dev", "/dev"));           // a private /dev with null, zero, random, urandom, tty only
        a.addAll(List.of("--size", String.valueOf(DEV_SHM_BYTES), "--tmpfs", "/dev/shm")); // bounded shared memory
        a.addAll(List.of("--remount-ro", "/dev"));    // no files written into /dev itself
        a.addAll(List.of("--proc", "/proc"));         // a /proc that shows only the sandbox's processes
        a.addAll(List.of("--size", String.valueOf(config.limits().tmpBytes()), "--tmpfs", "/tmp")); // private, bounded
        a.addAll(List.of("--bind", dataDir.toString(), DATA)); // the conversation's files: the only writable host path
        for (var e : readOnlyBinds.entrySet()) {
            a.addAll(List.of("--ro-bind", e.getKey().toString(), e.getValue()));
        }
        a.addAll(List.of("--remount-ro", "/"));       // no new top-level files
        a.addAll(List.of("--chdir", DATA));
        a.add("--clearenv");                          // nothing of the JVM's environment
        setenv(a, "PATH", "/usr/bin:/bin");
        setenv(a, "HOME", "/tmp");
        setenv(a, "TMPDIR", "/tmp");
        setenv(a, "LANG", "C.UTF-8");
        setenv(a, "MPLBACKEND", "Agg");               // matplotlib draws into memory; there is no display
        setenv(a, "MPLCONFIGDIR", "/tmp/matplotlib");
        setenv(a, "XDG_CACHE_HOME", "/tmp/.cache");   // fontconfig's cache
        setenv(a, "OPENBLAS_NUM_THREADS", "1");       // numpy must not compete with the inference threads
        setenv(a, "OMP_NUM_THREADS", "1");
        a.add("--");
        SandboxLimits l = config.limits();
        a.addAll(List.of(config.prlimit().toString(),
                "--as=" + l.addressSpaceBytes(),
                // SIGXCPU at the soft limit ends Python (exit 152, recognisable); SIGKILL at the hard one if it was caught
                "--cpu=" + l.cpuSeconds() + ":" + (l.cpuSeconds() + CPU_GRACE_SECONDS),
                "--nproc=" + l.processes(),
                "--fsize=" + l.fileSizeBytes(),
                "--nofile=" + l.openFiles(),
                "--core=0",                           // no core dumps of killed workers
                "--"));
        a.addAll(command);
        return List.copyOf(a);
    }

    private static void setenv(List<String> a, String name, String value) {
        a.addAll(List.of("--setenv", name, value));
    }

    private static String readLink(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
