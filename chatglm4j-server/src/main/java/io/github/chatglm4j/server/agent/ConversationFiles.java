package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;
import io.github.chatglm4j.format.SafeFiles;
import io.github.chatglm4j.server.ApiError;
import io.github.chatglm4j.server.Exchange;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * A conversation's files, its code's {@code /mnt/data}: uploads written exclusively and renamed into place (a link
 * the code planted is replaced, never followed), the listing, and downloads read as the code sees the file (through a
 * one-off sandboxed {@code cat}, so a link the code made cannot point the server at a file of the host).
 */
final class ConversationFiles {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Enough for any real name; leaves room for the temporary name's suffix within the file system's 255 bytes. */
    static final int MAX_NAME_BYTES = 200;
    /** As the interpreter lists them. */
    static final int MAX_LISTED = 1000;
    private static final int MAX_DEPTH = 16;
    private static final int SANDBOX_UID = 65534;

    private ConversationFiles() {
    }

    /** The reference's announcement of an uploaded file, which the page puts before the user's question. */
    static String announcement(String name, long size) {
        return "#File: /mnt/data/" + name + "\n#Size: " + size + "\n#File uploaded\n";
    }

    /**
     * {@code PUT .../files/{name}}: the body becomes the file (an existing one is replaced).
     *
     * @param sandbox the sandbox, or null where none runs
     */
    static ObjectNode upload(Exchange ex, Conversation c, Sandbox sandbox, String name, long maxBytes) throws IOException {
        checkSegment(name, "the file name");
        Path folder = folder(c, sandbox);
        Path target = folder.resolve(name);
        long size = 0;
        try (InputStream in = ex.bodyStream(maxBytes); SafeFiles.Pending file = SafeFiles.create(target)) {
            byte[] buf = new byte[64 << 10];
            int n;
            while ((n = in.read(buf)) > 0) {
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                while (b.hasRemaining()) {
                    file.channel().write(b);
                }
                size += n;
            }
            Files.setPosixFilePermissions(file.temp(), PosixFilePermissions.fromString("rw-------"));
            if (sandbox != null && sandbox.runsAsNobody()) {
                // the code runs as nobody and may change what the user gave it
                Files.setAttribute(file.temp(), "unix:uid", SANDBOX_UID, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(file.temp(), "unix:gid", SANDBOX_UID, LinkOption.NOFOLLOW_LINKS);
            }
            file.commit(true);
        } catch (DirectoryNotEmptyException e) {
            throw ApiError.of(409, "file_is_a_folder", "/mnt/data/" + name + " is a folder the code made; choose another name.");
        }
        ObjectNode out = NODES.objectNode().put("name", name).put("size", size).put("path", "/mnt/data/" + name);
        return out.put("announcement", announcement(name, size));
    }

    /** {@code GET .../files}: the regular files under the folder (links and others left out), at most 1000. */
    static ObjectNode list(Conversation c) throws IOException {
        ObjectNode out = NODES.objectNode();
        ArrayNode files = out.putArray("files");
        if (!Files.isDirectory(c.folder, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        var found = new ArrayList<ObjectNode>();
        Files.walkFileTree(c.folder, EnumSet.noneOf(FileVisitOption.class), MAX_DEPTH, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String name = c.folder.relativize(file).toString();
                if (attrs.isRegularFile() && printable(name)) {
                    found.add(NODES.objectNode().put("name", name).put("size", attrs.size()));
                }
                return found.size() >= MAX_LISTED ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // an unreadable folder the code made
            }
        });
        found.sort((a, b) -> a.get("name").asText().compareTo(b.get("name").asText()));
        files.addAll(found);
        return out;
    }

    /** {@code GET .../files/{path}}: the file's bytes as an attachment. */
    static void download(Exchange ex, Conversation c, Sandbox sandbox, String path, int maxBytes) throws IOException {
        for (String segment : path.split("/", -1)) {
            checkSegment(segment, "the file path");
        }
        if (!Files.isDirectory(c.folder, LinkOption.NOFOLLOW_LINKS)) {
            throw notFound(path, null);
        }
        byte[] bytes;
        if (sandbox != null) {
            try {
                bytes = sandbox.readFile(c.folder, "/mnt/data/" + path, maxBytes);
            } catch (IOException e) {
                throw e.getMessage() != null && e.getMessage().contains("is larger than") ? tooLarge(path, maxBytes) : notFound(path, e.getMessage());
            } catch (SandboxUnavailableException e) {
                throw ApiError.of(500, "server_error", "The file could not be read: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ApiError.unavailable("server_stopping", "The server is stopping.");
            }
        } else {
            bytes = readWithoutSandbox(c.folder.resolve(path), path, maxBytes);
        }
        ex.setHeader("Content-Disposition", contentDisposition(path.substring(path.lastIndexOf('/') + 1)));
        ex.setHeader("Cache-Control", "no-store");
        ex.bytes(200, "application/octet-stream", bytes);
    }

    /**
     * Where no sandbox runs, no code ran: only uploads are there. Still, no link is followed and only a regular file
     * is read.
     */
    private static byte[] readWithoutSandbox(Path file, String path, int maxBytes) throws IOException {
        for (Path p = file; !p.equals(file.getRoot()) && p.getNameCount() > 0; p = p.getParent()) {
            if (Files.isSymbolicLink(p)) {
                throw notFound(path, null);
            }
        }
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw notFound(path, null);
        }
        if (!attrs.isRegularFile()) {
            throw notFound(path, null);
        }
        if (attrs.size() > maxBytes) {
            throw tooLarge(path, maxBytes);
        }
        try (SeekableByteChannel ch = Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(ch.size(), maxBytes));
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // until full or at the end (the file may have shrunk meanwhile)
            }
            return Arrays.copyOf(b.array(), b.position());
        }
    }

    private static Path folder(Conversation c, Sandbox sandbox) throws IOException {
        try {
            return c.folder(sandbox);
        } catch (SandboxUnavailableException e) {
            throw ApiError.of(500, "server_error", "The conversation's folder cannot be prepared: " + e.getMessage());
        }
    }

    /** One path segment: not empty, not {@code .} or {@code ..}, no {@code /}, no control characters, not too long. */
    static void checkSegment(String s, String what) {
        if (s.isEmpty() || s.equals(".") || s.equals("..") || s.indexOf('/') >= 0 || !printable(s)
                || s.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw ApiError.of(400, "invalid_file_name", what + " must be a plain name (not empty, not . or .., no /, no control "
                    + "characters, at most " + MAX_NAME_BYTES + " bytes)");
        }
    }

    private static boolean printable(String s) {
        return s.chars().noneMatch(ch -> ch < 0x20 || ch == 0x7f);
    }

    private static ApiError notFound(String path, String why) {
        return ApiError.of(404, "file_not_found", "There is no file /mnt/data/" + path + (why == null || why.isBlank() ? "" : " (" + why + ")") + ".");
    }

    private static ApiError tooLarge(String path, int maxBytes) {
        return ApiError.of(400, "file_too_large", "/mnt/data/" + path + " is larger than " + maxBytes + " bytes (--max-upload), "
                + "the most a download serves.");
    }

    /** RFC 6266: a plain ASCII fallback, and the exact name in RFC 5987 encoding. */
    static String contentDisposition(String name) {
        var ascii = new StringBuilder();
        var encoded = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            ascii.append(ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '%' ? ch : '_');
        }
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int v = b & 0xff;
            if (v >= 'a' && v <= 'z' || v >= 'A' && v <= 'Z' || v >= '0' && v <= '9' || "!#$&+-.^_`|~".indexOf(v) >= 0) {
                encoded.append((char) v);
            } else {
                encoded.append('%').append(String.format("%02X", v));
            }
        }
        return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
    }
}
