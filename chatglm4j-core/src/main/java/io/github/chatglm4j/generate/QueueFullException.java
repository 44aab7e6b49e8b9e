package io.github.chatglm4j.generate;

/** Every slot is busy and the waiting queue is full: the caller should retry later. */
public final class QueueFullException extends RuntimeException {
    private final int queueCapacity;

    public QueueFullException(int queueCapacity) {
        super("the server is busy: " + queueCapacity + " requests are already waiting; retry later");
        this.queueCapacity = queueCapacity;
    }

    public int queueCapacity() {
        return queueCapacity;
    }
}
