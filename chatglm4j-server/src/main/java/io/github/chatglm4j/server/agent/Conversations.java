package io.github.chatglm4j.server.agent;

import io.github.chatglm4j.server.ApiError;
import io.github.chatglm4j.server.http.HttpError;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The conversations of the agent API: created cheaply, each with a folder and a Python worker made on first use, at
 * most {@link AgentApiOptions#maxWorkers()} workers at once, idle workers stopped and idle conversations forgotten
 * (folder deleted). Every request on a conversation holds a {@link Use} while it runs; a conversation in use is never
 * reaped, and a deleted one loses its folder when its last use ends. One lock guards the bookkeeping; starting and
 * stopping workers and deleting folders happen outside it.
 */
final class Conversations implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.github.chatglm4j.server");
    private static final Pattern ID = Pattern.compile("c-[0-9a-f]{32}");

    private final AgentApiOptions options;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Conversation> byId = new LinkedHashMap<>();
    /** Made with the first conversation. */
    private Path root;
    private int workers;
    private long workersRefused;
    private boolean closed;

    Conversations(AgentApiOptions options) {
        this.options = options;
    }

    /** A request's hold on a conversation; closing it ends the use. */
    final class Use implements AutoCloseable {
        final Conversation conversation;
        private final boolean turn;
        private boolean done;

        private Use(Conversation conversation, boolean turn) {
            this.conversation = conversation;
            this.turn = turn;
        }

        @Override
        public void close() {
            boolean delete;
            synchronized (Conversations.this) {
                if (done) {
                    return;
                }
                done = true;
                Conversation c = conversation;
                c.uses--;
                if (turn) {
                    // a turn may run for long: idle from its end (before its stream ends); other requests are short
                    // and count from their start (this runs after their answer was sent)
                    c.turn = null;
                    c.lastUsed = now();
                }
                delete = c.closed && c.uses == 0;
            }
            if (delete) {
                deleteFolder(conversation);
            }
        }
    }

    /**
     * The folder holding one folder per conversation: the configured one, or a temporary one that is searchable but not
     * listable by others (when the server runs as root, the sandbox runs as nobody and must reach its conversation's
     * folder through it; the conversations' folders themselves are private).
     *
     * @throws UncheckedIOException if it cannot be made
     */
    synchronized Path root() {
        if (root == null) {
            try {
                if (options.dataRoot() != null) {
                    root = Files.createDirectories(options.dataRoot()).toAbsolutePath();
                } else {
                    Path r = Files.createTempDirectory("chatglm-conversations-",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    Files.setPosixFilePermissions(r, PosixFilePermissions.fromString("rwx--x--x"));
                    root = r;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make the folder for conversations: " + e.getMessage(), e);
            }
        }
        return root;
    }

    Instant now() {
        return options.clock().instant();
    }

    /**
     * A new conversation (no folder, no worker yet).
     *
     * @throws ApiError 503 {@code too_many_conversations} at the limit
     */
    Conversation create() {
        reap();
        synchronized (this) {
            checkOpen();
            if (byId.size() >= options.maxConversations()) {
                throw ApiError.unavailable("too_many_conversations", "The server keeps at most " + options.maxConversations()
                        + " conversations; delete one (DELETE /api/conversations/{id}) or retry when an idle one expired.");
            }
            String id = "c-" + HexFormat.of().formatHex(bytes(16));
            Path folder;
            try {
                folder = root().resolve(id);
            } catch (UncheckedIOException e) {
                throw ApiError.of(500, "server_error", e.getMessage());
            }
            var c = new Conversation(id, folder, now());
            byId.put(id, c);
            return c;
        }
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** @throws ApiError 404 if there is no such conversation (or it expired) */
    synchronized void check(String id) {
        find(id);
    }

    /**
     * Starts a request on a conversation (a file upload, list or download).
     *
     * @throws ApiError 404 if there is no such conversation (or it expired)
     */
    synchronized Use use(String id) {
        Conversation c = find(id);
        c.uses++;
        c.lastUsed = now();
        return new Use(c, false);
    }

    /**
     * Starts a turn: one at a time per conversation; one that needs the interpreter takes a worker place unless the
     * conversation already has one.
     *
     * @throws ApiError 404 (no such conversation), 409 {@code turn_in_progress}, 503 {@code too_many_workers}
     */
    Use beginTurn(String id, boolean needsWorker, TurnControl control) {
        reap();
        synchronized (this) {
            Conversation c = find(id);
            if (c.turn != null) {
                throw ApiError.of(409, "turn_in_progress", "A turn of this conversation is still running; stop it first "
                        + "(POST /api/conversations/" + id + "/stop) or wait for its end.");
            }
            if (needsWorker && !c.workerCounted) {
                if (workers >= options.maxWorkers()) {
                    workersRefused++;
                    throw ApiError.unavailable("too_many_workers", "All " + options.maxWorkers() + " Python workers are in use by "
                            + "other conversations; retry when one is idle (workers stop after " + describe(options.workerIdle())
                            + " without use) or delete a conversation.");
                }
                workers++;
                c.workerCounted = true;
            }
            c.turn = control;
            c.uses++;
            c.lastUsed = now();
            return new Use(c, true);
        }
    }

    /** Gives back the worker place of a conversation whose worker could not be started. */
    synchronized void releaseWorker(Conversation c) {
        if (c.workerCounted) {
            c.workerCounted = false;
            workers--;
        }
    }

    /** Stops the turn in progress, if any. @throws ApiError 404 if there is no such conversation */
    void stop(String id) {
        TurnControl t;
        synchronized (this) {
            t = find(id).turn;
        }
        if (t != null) {
            t.cancel();
        }
    }

    /**
     * Deletes a conversation: its turn is cancelled, its worker killed, its folder deleted (once no request uses it).
     *
     * @throws ApiError 404 if there is no such conversation
     */
    void delete(String id) {
        Conversation c;
        TurnControl turn;
        boolean deleteNow;
        synchronized (this) {
            c = find(id);
            turn = c.turn;
            deleteNow = retire(c);
        }
        finish(c, turn, deleteNow);
    }

    /** Stops idle workers and forgets idle conversations, as the clock says now. */
    void reap() {
        var stopWorkers = new ArrayList<Conversation>();
        var expired = new ArrayList<Conversation>();
        synchronized (this) {
            Instant now = now();
            for (var it = byId.values().iterator(); it.hasNext(); ) {
                Conversation c = it.next();
                if (c.uses > 0) {
                    continue;
                }
                if (!now.isBefore(c.lastUsed.plus(options.conversationIdle()))) {
                    it.remove();
                    retire(c);
                    expired.add(c);
                } else if (c.workerCounted && !now.isBefore(c.lastUsed.plus(options.workerIdle()))) {
                    c.workerCounted = false;
                    workers--;
                    stopWorkers.add(c);
                }
            }
        }
        stopWorkers.forEach(Conversation::stopWorker);
        expired.forEach(c -> finish(c, null, true)); // unused: no turn
    }

    /** Marks a conversation gone (under the lock); true if its folder can be deleted now. */
    private boolean retire(Conversation c) {
        byId.remove(c.id);
        c.closed = true;
        if (c.workerCounted) {
            c.workerCounted = false;
            workers--;
        }
        return c.uses == 0;
    }

    /** Outside the lock: cancels the turn, kills the worker, deletes the folder if nothing uses it. */
    private void finish(Conversation c, TurnControl turn, boolean deleteFolder) {
        if (turn != null) {
            turn.cancel();
        }
        c.retire();
        if (deleteFolder) {
            deleteFolder(c);
        }
    }

    private Conversation find(String id) {
        checkOpen();
        Conversation c = id != null && ID.matcher(id).matches() ? byId.get(id) : null;
        if (c == null) {
            throw ApiError.of(404, "conversation_not_found", "There is no conversation '" + HttpError.printable(id, 80)
                    + "' (it was deleted, expired after " + describe(options.conversationIdle()) + " without use, or the server restarted).");
        }
        return c;
    }

    private void checkOpen() {
        if (closed) {
            throw ApiError.unavailable("server_stopping", "The server is stopping.");
        }
    }

    synchronized int count() {
        return byId.size();
    }

    synchronized int workers() {
        return workers;
    }

    synchronized long workersRefused() {
        return workersRefused;
    }

    synchronized int turnsRunning() {
        int n = 0;
        for (Conversation c : byId.values()) {
            if (c.turn != null) {
                n++;
            }
        }
        return n;
    }

    /** Stops every turn and worker and deletes every conversation's folder (and the root, if the server made it). */
    @Override
    public void close() {
        List<Conversation> all;
        List<TurnControl> turns = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            all = new ArrayList<>(byId.values());
            for (Conversation c : all) {
                turns.add(c.turn);
                retire(c);
            }
            closed = true;
        }
        for (int i = 0; i < all.size(); i++) {
            // a turn still ending deletes its folder again when it ends (its use holds the conversation)
            finish(all.get(i), turns.get(i), true);
        }
        synchronized (this) {
            if (root != null && options.dataRoot() == null) {
                deleteTree(root);
            }
        }
    }

    private void deleteFolder(Conversation c) {
        deleteTree(c.folder);
    }

    /**
     * Deletes a folder the sandboxed code wrote into: links are removed, never followed; folders the code made
     * unreadable are opened first (they belong to the code's user, or to nobody under a root server).
     */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    try {
                        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
                    } catch (IOException | UnsupportedOperationException ignored) {
                        // root needs no permission; otherwise the deletion below says what failed
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    Files.deleteIfExists(file); // an unreadable folder the code made: try it as a leaf
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete " + dir + ": " + e.getMessage());
        }
    }

    static String describe(java.time.Duration d) {
        if (d.toSeconds() % 3600 == 0 && d.toHours() > 0) {
            return d.toHours() + " h";
        }
        if (d.toSeconds() % 60 == 0 && d.toMinutes() > 0) {
            return d.toMinutes() + " min";
        }
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
