package io.github.chatglm4j.hub;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * How often and how long to wait before trying again after a transient failure (connection reset or refused, a
 * stalled transfer, 429, 5xx): exponential backoff from {@code base} up to {@code max}, or the server's
 * {@code Retry-After} when it sends one (up to {@link #MAX_RETRY_AFTER}). A transfer that made progress starts
 * counting again, so a long download survives any number of separated drops.
 *
 * @param attempts tries per request before giving up (at least 1)
 * @param base     wait after the first failure
 * @param max      longest backoff wait
 * @param sleeper  how to wait (tests record the waits instead)
 */
record RetryPolicy(int attempts, Duration base, Duration max, Sleeper sleeper) {
    static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);

    /** Waits; interruptible. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    static RetryPolicy defaults() {
        return new RetryPolicy(6, Duration.ofSeconds(1), Duration.ofSeconds(30), d -> Thread.sleep(d.toMillis()));
    }

    /** The wait before try number {@code failures + 1}; {@code retryAfter} (the header's value) wins when given. */
    Duration delay(int failures, String retryAfter) {
        Duration fromServer = parseRetryAfter(retryAfter);
        if (fromServer != null) {
            return fromServer.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : fromServer;
        }
        long millis = base.toMillis() << Math.min(20, Math.max(0, failures - 1));
        return Duration.ofMillis(Math.min(millis, max.toMillis()));
    }

    void pause(Duration d) {
        try {
            sleeper.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubException.Kind.NETWORK, "interrupted while waiting to retry", e);
        }
    }

    /** {@code Retry-After} is either seconds or an HTTP date; anything else is ignored. */
    static Duration parseRetryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.strip();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }
}
