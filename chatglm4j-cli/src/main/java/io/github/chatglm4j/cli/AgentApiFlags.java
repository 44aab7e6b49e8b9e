package io.github.chatglm4j.cli;

import io.github.chatglm4j.agent.tool.WeatherService;
import io.github.chatglm4j.server.agent.AgentApiOptions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The agent API's limits and tools, shared by {@code serve} and {@code web}. */
final class AgentApiFlags {
    @Option(names = "--max-workers", paramLabel = "N", defaultValue = "4",
            description = "Agent API: Python workers (one per conversation using the code interpreter) alive at once; "
                    + "a turn that needs one more gets 503. Default: ${DEFAULT-VALUE}.")
    int maxWorkers;

    @Option(names = "--worker-idle", paramLabel = "DURATION", defaultValue = "10m", converter = DurationConverter.class,
            description = "Agent API: stop a conversation's worker after this long unused (its files stay); e.g. 90s, "
                    + "10m, 2h. Default: ${DEFAULT-VALUE}.")
    Duration workerIdle;

    @Option(names = "--conversation-idle", paramLabel = "DURATION", defaultValue = "24h", converter = DurationConverter.class,
            description = "Agent API: forget a conversation and delete its files after this long unused. Default: ${DEFAULT-VALUE}.")
    Duration conversationIdle;

    @Option(names = "--max-upload", paramLabel = "SIZE", defaultValue = "64M", converter = SizeConverter.class,
            description = "Agent API: largest file uploaded to (or downloaded from) a conversation; e.g. 500K, 64M, 1G. "
                    + "Default: ${DEFAULT-VALUE}.")
    long maxUpload;

    @Option(names = "--data-root", paramLabel = "DIR",
            description = "Agent API: the folder for the conversations' files (one folder each, the code's /mnt/data; "
                    + "deleted when the conversation is, and when the server stops). Default: a new private folder in the "
                    + "system temp folder, removed when the server stops.")
    Path dataRoot;

    @Option(names = "--weather",
            description = "Agent API: offer the built-in get_weather, which sends the city to wttr.in (off by default).")
    boolean weather;

    @Option(names = "--cell-timeout", paramLabel = "S", defaultValue = "30",
            description = "Agent API: seconds a code cell or a tool may run before it is stopped. Default: ${DEFAULT-VALUE}.")
    int cellTimeout;

    @Option(names = "--max-rounds", paramLabel = "N", defaultValue = "5",
            description = "Agent API: model turns per message, calls included (the reference demo's 5). Default: ${DEFAULT-VALUE}.")
    int maxRounds;

    /** The options as given, checked. */
    AgentApiOptions options(CommandSpec spec) {
        if (maxWorkers < 1) {
            throw new ParameterException(spec.commandLine(), "--max-workers must be at least 1, got " + maxWorkers);
        }
        if (cellTimeout < 1) {
            throw new ParameterException(spec.commandLine(), "--cell-timeout must be at least 1 second, got " + cellTimeout);
        }
        if (maxRounds < 1) {
            throw new ParameterException(spec.commandLine(), "--max-rounds must be at least 1, got " + maxRounds);
        }
        if (maxUpload > Integer.MAX_VALUE - 8) {
            throw new ParameterException(spec.commandLine(), "--max-upload must be below 2G, got " + maxUpload + " bytes");
        }
        return AgentApiOptions.DEFAULTS.withMaxWorkers(maxWorkers).withIdleLimits(workerIdle, conversationIdle)
                .withMaxUploadBytes(maxUpload).withDataRoot(dataRoot)
                .withWeather(weather ? WeatherService.wttrIn() : WeatherService.DISABLED)
                .withCellTimeout(Duration.ofSeconds(cellTimeout)).withMaxRounds(maxRounds);
    }

    /** {@code 90s}, {@code 10m}, {@code 2h}, {@code 1d}, or seconds without a unit; more than zero. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Matcher m = Pattern.compile("([0-9]{1,9})([smhd]?)").matcher(value.strip());
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw new TypeConversionException("expected a duration such as 90s, 10m, 2h or 1d, got '" + value + "'");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofSeconds(n);
            };
        }
    }

    /** Bytes, or with a binary unit: {@code 500K}, {@code 64M}, {@code 1G} (also {@code KiB}, {@code MiB}, {@code GiB}). */
    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            Matcher m = Pattern.compile("([0-9]{1,12})(?:([KMG])(?:iB|B)?)?", Pattern.CASE_INSENSITIVE).matcher(value.strip());
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw new TypeConversionException("expected a size such as 500K, 64M or 1G, got '" + value + "'");
            }
            long n = Long.parseLong(m.group(1));
            int shift = m.group(2) == null ? 0 : switch (Character.toUpperCase(m.group(2).charAt(0))) {
                case 'K' -> 10;
                case 'M' -> 20;
                default -> 30;
            };
            return n << shift;
        }
    }
}
