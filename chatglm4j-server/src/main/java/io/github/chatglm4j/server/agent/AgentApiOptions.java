package io.github.chatglm4j.server.agent;

import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.tool.WeatherService;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * Limits and settings of the agent API ({@code /api/...}, the web UI's conversations with tools and the code
 * interpreter).
 *
 * @param maxWorkers       Python workers (one per conversation that uses the interpreter) alive at once; a turn that
 *                         needs one more gets 503 {@code too_many_workers}
 * @param workerIdle       a conversation's worker unused this long is stopped (its files stay)
 * @param conversationIdle a conversation unused this long is forgotten and its folder deleted
 * @param maxConversations conversations kept at once; creating one more gets 503 {@code too_many_conversations}
 * @param maxUploadBytes   largest file accepted by an upload (and served by a download)
 * @param weather          where get_weather asks; {@link WeatherService#DISABLED} leaves the tool out
 * @param dataRoot         the folder that holds one folder per conversation (each its code's /mnt/data), or null
 *                         for a private temporary folder removed when the server stops
 * @param cellTimeout      how long a code cell or a tool may run
 * @param maxRounds        model turns per message
 * @param sandbox          where the sandbox's programs are, and its limits
 * @param clock            the time idle limits are measured with (tests move it)
 */
public record AgentApiOptions(int maxWorkers, Duration workerIdle, Duration conversationIdle, int maxConversations,
                              long maxUploadBytes, WeatherService weather, Path dataRoot, Duration cellTimeout,
                              int maxRounds, SandboxConfig sandbox, InstantSource clock) {
    public static final int DEFAULT_MAX_WORKERS = 4;
    public static final Duration DEFAULT_WORKER_IDLE = Duration.ofMinutes(10);
    public static final Duration DEFAULT_CONVERSATION_IDLE = Duration.ofHours(24);
    public static final int DEFAULT_MAX_CONVERSATIONS = 1000;
    public static final long DEFAULT_MAX_UPLOAD_BYTES = 64L << 20;
    public static final Duration DEFAULT_CELL_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_ROUNDS = 5;

    public static final AgentApiOptions DEFAULTS = new AgentApiOptions(DEFAULT_MAX_WORKERS, DEFAULT_WORKER_IDLE,
            DEFAULT_CONVERSATION_IDLE, DEFAULT_MAX_CONVERSATIONS, DEFAULT_MAX_UPLOAD_BYTES, WeatherService.DISABLED, null,
            DEFAULT_CELL_TIMEOUT, DEFAULT_MAX_ROUNDS, SandboxConfig.DEFAULTS, InstantSource.system());

    public AgentApiOptions {
        Objects.requireNonNull(workerIdle, "workerIdle");
        Objects.requireNonNull(conversationIdle, "conversationIdle");
        Objects.requireNonNull(weather, "weather");
        Objects.requireNonNull(cellTimeout, "cellTimeout");
        Objects.requireNonNull(sandbox, "sandbox");
        Objects.requireNonNull(clock, "clock");
        if (maxWorkers < 1) {
            throw new IllegalArgumentException("max workers must be at least 1, got " + maxWorkers);
        }
        if (maxConversations < 1) {
            throw new IllegalArgumentException("max conversations must be at least 1, got " + maxConversations);
        }
        if (maxUploadBytes < 1 || maxUploadBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("max upload must be between 1 byte and 2 GiB, got " + maxUploadBytes);
        }
        if (maxRounds < 1) {
            throw new IllegalArgumentException("max rounds must be at least 1, got " + maxRounds);
        }
        for (Duration d : new Duration[]{workerIdle, conversationIdle, cellTimeout}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("durations must be positive, got " + d);
            }
        }
    }

    public AgentApiOptions withMaxWorkers(int n) {
        return new AgentApiOptions(n, workerIdle, conversationIdle, maxConversations, maxUploadBytes, weather, dataRoot,
                cellTimeout, maxRounds, sandbox, clock);
    }

    public AgentApiOptions withIdleLimits(Duration worker, Duration conversation) {
        return new AgentApiOptions(maxWorkers, worker, conversation, maxConversations, maxUploadBytes, weather, dataRoot,
                cellTimeout, maxRounds, sandbox, clock);
    }

    public AgentApiOptions withMaxConversations(int n) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, n, maxUploadBytes, weather, dataRoot,
                cellTimeout, maxRounds, sandbox, clock);
    }

    public AgentApiOptions withMaxUploadBytes(long bytes) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, maxConversations, bytes, weather, dataRoot,
                cellTimeout, maxRounds, sandbox, clock);
    }

    public AgentApiOptions withWeather(WeatherService service) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, maxConversations, maxUploadBytes, service, dataRoot,
                cellTimeout, maxRounds, sandbox, clock);
    }

    public AgentApiOptions withDataRoot(Path root) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, maxConversations, maxUploadBytes, weather, root,
                cellTimeout, maxRounds, sandbox, clock);
    }

    public AgentApiOptions withCellTimeout(Duration timeout) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, maxConversations, maxUploadBytes, weather, dataRoot,
                timeout, maxRounds, sandbox, clock);
    }

    public AgentApiOptions withMaxRounds(int n) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, maxConversations, maxUploadBytes, weather, dataRoot,
                cellTimeout, n, sandbox, clock);
    }

    public AgentApiOptions withSandbox(SandboxConfig config) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, maxConversations, maxUploadBytes, weather, dataRoot,
                cellTimeout, maxRounds, config, clock);
    }

    public AgentApiOptions withClock(InstantSource c) {
        return new AgentApiOptions(maxWorkers, workerIdle, conversationIdle, maxConversations, maxUploadBytes, weather, dataRoot,
                cellTimeout, maxRounds, sandbox, c);
    }
}
