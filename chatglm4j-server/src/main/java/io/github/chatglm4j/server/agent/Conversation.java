package io.github.chatglm4j.server.agent;

import io.github.chatglm4j.agent.interpreter.CodeInterpreter;
import io.github.chatglm4j.agent.interpreter.InterpreterOptions;
import io.github.chatglm4j.agent.sandbox.Sandbox;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;

/**
 * The server side of one conversation of the web UI (the history lives in the browser): its folder, which the code
 * sees as {@code /mnt/data}, and its Python worker, both made on first use, and the turn in progress.
 * The fields without their own lock are guarded by {@link Conversations}.
 */
final class Conversation {
    final String id;
    final Path folder;
    /** When it was last used: the end of its last turn, or the start of a later request. */
    Instant lastUsed;
    /** Requests using it now (a turn, an upload, a download). */
    int uses;
    /** Deleted or expired: no new request may use it; its folder goes when the last use ends. */
    boolean closed;
    /** A worker runs, or is being started, for it: counted against the cap. */
    boolean workerCounted;
    /** The turn in progress, or null. */
    TurnControl turn;

    /** Guarded by this object: the worker, and whether one may still be started. */
    private CodeInterpreter interpreter;
    private boolean retired;

    Conversation(String id, Path folder, Instant created) {
        this.id = id;
        this.folder = folder;
        this.lastUsed = created;
    }

    /**
     * The folder, created on first use: private to the server's user, given to the sandbox's user when the sandbox
     * runs as {@code nobody} (see {@link Sandbox#prepareDataDir}).
     */
    Path folder(Sandbox sandbox) throws IOException {
        try {
            Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // made by an earlier request
        }
        if (sandbox != null) {
            sandbox.prepareDataDir(folder);
        }
        return folder;
    }

    /**
     * The conversation's Python worker, started in its folder on first use.
     *
     * @throws IllegalStateException if the conversation was deleted meanwhile
     */
    synchronized CodeInterpreter interpreter(Sandbox sandbox, InterpreterOptions options) throws InterruptedException, IOException {
        if (retired) {
            throw new IllegalStateException("the conversation was deleted");
        }
        if (interpreter == null) {
            interpreter = CodeInterpreter.start(sandbox, folder(sandbox), options);
        }
        return interpreter;
    }

    /** Stops the worker, if one runs (a running cell ends at once); the files stay. */
    void stopWorker() {
        CodeInterpreter running;
        synchronized (this) {
            running = interpreter;
            interpreter = null;
        }
        if (running != null) {
            running.close();
        }
    }

    /** Stops the worker for good: none is started afterwards. */
    void retire() {
        synchronized (this) {
            retired = true;
        }
        stopWorker();
    }
}
