package io.github.chatglm4j.agent.sandbox;

/**
 * What a shell command run in the sandbox printed and how it ended.
 *
 * @param exitCode the shell's exit code (128 + signal number when a signal ended it), -1 when it timed out
 * @param stdout   standard output, at most the requested number of bytes (decoded as UTF-8)
 * @param stderr   standard error, likewise
 * @param dropped  bytes of output beyond the limit, not kept
 * @param timedOut the command was still running at the timeout and was killed
 */
public record ShellResult(int exitCode, String stdout, String stderr, long dropped, boolean timedOut) {
}
