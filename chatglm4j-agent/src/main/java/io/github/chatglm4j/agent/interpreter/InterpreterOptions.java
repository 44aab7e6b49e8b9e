package io.github.chatglm4j.agent.interpreter;

import java.time.Duration;
import java.util.Objects;

/**
 * How cells run.
 *
 * @param cellTimeout    wall-clock time a cell may run before it is interrupted (the reference demo waits 30 s)
 * @param interruptGrace how long an interrupted cell has to stop before the worker is killed and restarted
 * @param startTimeout   how long a new worker may take to start
 * @param outputLimit    most characters of a cell's output kept (more is counted, not stored)
 */
public record InterpreterOptions(Duration cellTimeout, Duration interruptGrace, Duration startTimeout, int outputLimit) {

    public static final InterpreterOptions DEFAULTS = new InterpreterOptions(Duration.ofSeconds(30), Duration.ofSeconds(5),
            Duration.ofSeconds(60), 100_000);

    public InterpreterOptions {
        Objects.requireNonNull(cellTimeout, "cellTimeout");
        Objects.requireNonNull(interruptGrace, "interruptGrace");
        Objects.requireNonNull(startTimeout, "startTimeout");
        if (cellTimeout.isNegative() || cellTimeout.isZero() || interruptGrace.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive: " + cellTimeout + ", " + interruptGrace + ", " + startTimeout);
        }
        if (outputLimit < 1024) {
            throw new IllegalArgumentException("output limit below 1024 characters: " + outputLimit);
        }
    }

    public InterpreterOptions withCellTimeout(Duration timeout) {
        return new InterpreterOptions(timeout, interruptGrace, startTimeout, outputLimit);
    }

    public InterpreterOptions withInterruptGrace(Duration grace) {
        return new InterpreterOptions(cellTimeout, grace, startTimeout, outputLimit);
    }

    public InterpreterOptions withOutputLimit(int chars) {
        return new InterpreterOptions(cellTimeout, interruptGrace, startTimeout, chars);
    }
}
