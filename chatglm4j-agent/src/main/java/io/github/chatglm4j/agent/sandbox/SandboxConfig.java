package io.github.chatglm4j.agent.sandbox;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the sandbox's programs are and how much they may use.
 *
 * @param bwrap   the bubblewrap binary (Debian package {@code bubblewrap})
 * @param python  the interpreter run inside; the Debian one, whose numpy, pandas and matplotlib come from Debian
 *                packages under {@code /usr} (a Python under a home directory would not be visible inside)
 * @param prlimit util-linux {@code prlimit}, run inside the sandbox to set the limits
 * @param setpriv util-linux {@code setpriv}, used when the JVM runs as root to start the sandbox as another user
 * @param limits  resource limits
 */
public record SandboxConfig(Path bwrap, Path python, Path prlimit, Path setpriv, SandboxLimits limits) {

    public static final SandboxConfig DEFAULTS = new SandboxConfig(Path.of("/usr/bin/bwrap"), Path.of("/usr/bin/python3"),
            Path.of("/usr/bin/prlimit"), Path.of("/usr/bin/setpriv"), SandboxLimits.DEFAULTS);

    public SandboxConfig {
        Objects.requireNonNull(bwrap, "bwrap");
        Objects.requireNonNull(python, "python");
        Objects.requireNonNull(prlimit, "prlimit");
        Objects.requireNonNull(setpriv, "setpriv");
        Objects.requireNonNull(limits, "limits");
        if (!python.startsWith("/usr/")) {
            // only /usr is bound into the sandbox
            throw new IllegalArgumentException("the sandboxed Python must be under /usr (got " + python + ")");
        }
    }

    public SandboxConfig withLimits(SandboxLimits l) {
        return new SandboxConfig(bwrap, python, prlimit, setpriv, l);
    }

    public SandboxConfig withBwrap(Path path) {
        return new SandboxConfig(path, python, prlimit, setpriv, limits);
    }

    public SandboxConfig withPython(Path path) {
        return new SandboxConfig(bwrap, path, prlimit, setpriv, limits);
    }
}
