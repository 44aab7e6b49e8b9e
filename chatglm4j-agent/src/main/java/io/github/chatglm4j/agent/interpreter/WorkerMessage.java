package io.github.chatglm4j.agent.interpreter;

import com.fasterxml.jackson.databind.JsonNode;

/** What the JVM side of a worker can receive while it waits for a cell. */
sealed interface WorkerMessage {

    /** The driver started and listed /mnt/data. */
    record Ready(String python, JsonNode files) implements WorkerMessage {
    }

    /** A cell's reply, as the driver sent it. */
    record Reply(JsonNode body) implements WorkerMessage {
    }

    /** The worker's output ended: the process is gone. */
    record Ended(int exitCode, String stderr) implements WorkerMessage {
    }

    /** The worker wrote something that is not the protocol (a line too long, or not JSON). */
    record Broken(String why) implements WorkerMessage {
    }

    /** Someone asked to cancel the running cell. */
    record Cancel() implements WorkerMessage {
    }
}
