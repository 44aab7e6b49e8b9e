package io.github.chatglm4j.server.http;

import java.time.Duration;

/**
 * What one connection may cost the server: how long a client may take to send a request, how big it may be, how many
 * connections are open at once. Every wait on a client has a deadline, so a slow or silent client only ever holds
 * its own connection, and only for a bounded time.
 *
 * @param maxConnections connections served at once; the next ones get a short 503 and are closed
 * @param headerTimeout  the whole request line and headers must arrive within this time (slow-header clients)
 * @param bodyTimeout    the whole body must arrive within this time (slow-body clients, a Content-Length larger
 *                       than what is sent)
 * @param idleTimeout    a kept-alive connection with no new request is closed after this time
 * @param writeTimeout   a write that the client does not take within this time closes the connection (a client
 *                       that stopped reading)
 * @param maxHeaderBytes largest request line plus headers (431 beyond)
 * @param maxBodyBytes   largest request body a handler reads whole (413 beyond)
 * @param discardBytes   how much of a refused body is read and thrown away so that the client, still sending, can
 *                       read the refusal; past it the connection is closed
 */
public record HttpLimits(int maxConnections, Duration headerTimeout, Duration bodyTimeout, Duration idleTimeout,
                         Duration writeTimeout, int maxHeaderBytes, int maxBodyBytes, long discardBytes) {
    /** 8 MiB: far more than a context of text, far less than would hurt the heap. */
    public static final int DEFAULT_MAX_BODY_BYTES = 8 << 20;

    public HttpLimits {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1, got " + maxConnections);
        }
        for (Duration d : new Duration[]{headerTimeout, bodyTimeout, idleTimeout, writeTimeout}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive, got " + d);
            }
        }
        if (maxHeaderBytes < 256) {
            throw new IllegalArgumentException("maxHeaderBytes must be at least 256, got " + maxHeaderBytes);
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be positive, got " + maxBodyBytes);
        }
        if (discardBytes < 0) {
            throw new IllegalArgumentException("discardBytes must be >= 0, got " + discardBytes);
        }
    }

    /**
     * 512 connections (far below the usual 1024 file descriptors of a process, far above what a few slots serve),
     * 10 s for the headers (browsers send them in one packet), 60 s for an 8 MiB body, 60 s idle, 30 s per write.
     */
    public static HttpLimits defaults() {
        return new HttpLimits(512, Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(60),
                Duration.ofSeconds(30), 32 << 10, DEFAULT_MAX_BODY_BYTES, 4L * DEFAULT_MAX_BODY_BYTES);
    }

    public HttpLimits withMaxConnections(int n) {
        return new HttpLimits(n, headerTimeout, bodyTimeout, idleTimeout, writeTimeout, maxHeaderBytes, maxBodyBytes, discardBytes);
    }

    public HttpLimits withHeaderTimeout(Duration d) {
        return new HttpLimits(maxConnections, d, bodyTimeout, idleTimeout, writeTimeout, maxHeaderBytes, maxBodyBytes, discardBytes);
    }

    public HttpLimits withBodyTimeout(Duration d) {
        return new HttpLimits(maxConnections, headerTimeout, d, idleTimeout, writeTimeout, maxHeaderBytes, maxBodyBytes, discardBytes);
    }

    public HttpLimits withIdleTimeout(Duration d) {
        return new HttpLimits(maxConnections, headerTimeout, bodyTimeout, d, writeTimeout, maxHeaderBytes, maxBodyBytes, discardBytes);
    }

    public HttpLimits withWriteTimeout(Duration d) {
        return new HttpLimits(maxConnections, headerTimeout, bodyTimeout, idleTimeout, d, maxHeaderBytes, maxBodyBytes, discardBytes);
    }

    public HttpLimits withMaxHeaderBytes(int n) {
        return new HttpLimits(maxConnections, headerTimeout, bodyTimeout, idleTimeout, writeTimeout, n, maxBodyBytes, discardBytes);
    }

    /** Also sets the discard bound to four times the body limit. */
    public HttpLimits withMaxBodyBytes(int n) {
        return new HttpLimits(maxConnections, headerTimeout, bodyTimeout, idleTimeout, writeTimeout, maxHeaderBytes, n, 4L * n);
    }
}
