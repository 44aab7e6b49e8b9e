package io.github.chatglm4j.server;

import io.github.chatglm4j.generate.Ticket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What the endpoints share: the metrics, the tickets still generating, and where server faults are logged. */
final class ServerState {
    private static final System.Logger LOG = System.getLogger("io.github.chatglm4j.server");

    private final Metrics metrics = new Metrics();
    private final Set<Ticket> active = ConcurrentHashMap.newKeySet();

    Metrics metrics() {
        return metrics;
    }

    /** Tickets of requests being generated, so that stopping the server can cancel them. */
    Set<Ticket> active() {
        return active;
    }

    /** A fault of the server or the model: logged with its stack trace; the client only learns that it happened. */
    void failed(Throwable t) {
        metrics.finished("error");
        LOG.log(System.Logger.Level.ERROR, "request failed", t);
    }

    void cancelAll() {
        for (Ticket t : active) {
            t.cancel();
        }
    }
}
