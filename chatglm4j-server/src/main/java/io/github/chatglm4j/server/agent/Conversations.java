package io.github.chatglm4j.server.agent;

import io.github.chatglm4j.server.ApiError;

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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The conversations of the agent API: created cheaply (the folder is made on first use), deleted with their folder.
 */
final class Conversations implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.github.chatglm4j.server");
    private static final Pattern ID = Pattern.compile("c-[0-9a-f]{32}");

    private final AgentApiOptions options;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Conversation> byId = new LinkedHashMap<>();
    /** Made with the first conversation. */
    private Path root;
    private boolean closed;

    Conversations(AgentApiOptions options) {
        this.options = options;
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

    /**
     * A new conversation (no folder, no worker yet).
     *
     * @throws ApiError 503 {@code too_many_conversations} at the limit
     */
    Conversation create() {
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
            var c = new Conversation(id, folder);
            byId.put(id, c);
            return c;
        }
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /**
     * Deletes a conversation with its folder.
     *
     * @throws ApiError 404 if there is no such conversation
     */
    void delete(String id) {
        Conversation c;
        synchronized (this) {
            c = find(id);
            byId.remove(id);
        }
        deleteTree(c.folder);
    }

    private Conversation find(String id) {
        checkOpen();
        Conversation c = id != null && ID.matcher(id).matches() ? byId.get(id) : null;
        if (c == null) {
            throw ApiError.of(404, "conversation_not_found", "There is no conversation '" + printable(id)
                    + "' (it was deleted, or the server restarted).");
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

    /** Deletes every conversation's folder (and the root, if the server made it). */
    @Override
    public void close() {
        List<Conversation> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            all = new ArrayList<>(byId.values());
            byId.clear();
            closed = true;
        }
        for (Conversation c : all) {
            deleteTree(c.folder);
        }
        synchronized (this) {
            if (root != null && options.dataRoot() == null) {
                deleteTree(root);
            }
        }
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

    private static String printable(String s) {
        if (s == null) {
            return "";
        }
        var out = new StringBuilder();
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }
}
