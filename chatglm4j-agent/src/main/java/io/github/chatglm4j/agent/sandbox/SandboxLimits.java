package io.github.chatglm4j.agent.sandbox;

/**
 * Resource limits of one sandboxed process tree, set with {@code prlimit} inside the sandbox (soft = hard, so the
 * sandboxed code cannot raise them: it has no capabilities).
 *
 * @param addressSpaceBytes RLIMIT_AS: a larger allocation fails with MemoryError instead of exhausting the host
 * @param cpuSeconds        RLIMIT_CPU: CPU time of the worker over its whole life (the per-cell limit is the
 *                          wall-clock timeout); past it the kernel kills the worker
 * @param processes         RLIMIT_NPROC: processes and threads of the sandbox user (stops fork bombs)
 * @param fileSizeBytes     RLIMIT_FSIZE: largest file the code can write
 * @param openFiles         RLIMIT_NOFILE: open file descriptors
 * @param tmpBytes          size of the private {@code /tmp} (memory-backed)
 */
public record SandboxLimits(long addressSpaceBytes, long cpuSeconds, int processes, long fileSizeBytes, int openFiles,
                            long tmpBytes) {
    private static final long MIB = 1024 * 1024;

    /** 2 GiB of address space, 10 minutes of CPU, 64 processes, 100 MiB files, 256 open files, 64 MiB of /tmp. */
    public static final SandboxLimits DEFAULTS = new SandboxLimits(2048 * MIB, 600, 64, 100 * MIB, 256, 64 * MIB);

    public SandboxLimits {
        // numpy, pandas and matplotlib together need about 300 MiB of address space just to import
        if (addressSpaceBytes < 64 * MIB) {
            throw new IllegalArgumentException("address space limit below 64 MiB: " + addressSpaceBytes);
        }
        if (cpuSeconds < 1 || processes < 2 || fileSizeBytes < 0 || openFiles < 16 || tmpBytes < MIB) {
            throw new IllegalArgumentException("sandbox limits too small: " + this);
        }
    }

    public SandboxLimits withCpuSeconds(long seconds) {
        return new SandboxLimits(addressSpaceBytes, seconds, processes, fileSizeBytes, openFiles, tmpBytes);
    }

    public SandboxLimits withFileSizeBytes(long bytes) {
        return new SandboxLimits(addressSpaceBytes, cpuSeconds, processes, bytes, openFiles, tmpBytes);
    }

    public SandboxLimits withAddressSpaceBytes(long bytes) {
        return new SandboxLimits(bytes, cpuSeconds, processes, fileSizeBytes, openFiles, tmpBytes);
    }
}
