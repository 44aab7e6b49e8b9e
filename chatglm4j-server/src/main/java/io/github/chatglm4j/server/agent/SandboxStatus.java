package io.github.chatglm4j.server.agent;

import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;

/**
 * Whether model-written code can run on this machine, decided once per server: the sandbox, or the one line that
 * says why not (and how to fix it). Without it the interpreter and get_shell are refused; code never runs unsandboxed.
 *
 * @param sandbox the sandbox, or null
 * @param reason  why there is none, or null
 */
record SandboxStatus(Sandbox sandbox, String reason) {

    static SandboxStatus check(SandboxConfig config) {
        try {
            return new SandboxStatus(Sandbox.open(config), null);
        } catch (SandboxUnavailableException e) {
            return new SandboxStatus(null, e.getMessage());
        }
    }

    boolean available() {
        return sandbox != null;
    }
}
