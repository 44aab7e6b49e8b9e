package io.github.chatglm4j.agent.sandbox;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts sandbox processes from one thread that lives as long as the JVM. bubblewrap's --die-with-parent uses the
 * kernel's parent-death signal, which fires when the <em>thread</em> that started the process ends, not the process:
 * started from a pooled or virtual thread's carrier, a sandbox would be killed whenever that thread retired.
 */
final class ProcessLauncher {
    private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "chatglm4j-sandbox-launcher");
        t.setDaemon(true);
        return t;
    });

    private ProcessLauncher() {
    }

    static Process start(ProcessBuilder builder) throws IOException {
        try {
            return LAUNCHER.submit(builder::start).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + builder.command().getFirst(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot start " + builder.command().getFirst() + ": " + e.getCause(), e.getCause());
        }
    }
}
