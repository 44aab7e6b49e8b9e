package io.github.chatglm4j.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Files packaged in the jar (a web UI) served over an exchange: the content type from the extension, a strong ETag
 * (so a browser revalidates with {@code If-None-Match} and gets a 304), and only names made of plain segments (no
 * {@code ..}, no empty or hidden segments, no backslashes), so a request can never reach another resource.
 *
 * <pre>{@code
 * var ui = new StaticResources(Main.class.getClassLoader(), "web/");
 * if (!ui.serve(exchange, "index.html")) { ... 404 ... }
 * }</pre>
 */
public final class StaticResources {
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"), Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"), Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("json", "application/json"), Map.entry("map", "application/json"), Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("svg", "image/svg+xml"), Map.entry("png", "image/png"), Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"), Map.entry("gif", "image/gif"), Map.entry("webp", "image/webp"),
            Map.entry("ico", "image/x-icon"), Map.entry("woff2", "font/woff2"), Map.entry("wasm", "application/wasm"));

    private record Resource(byte[] bytes, String etag, String type) {
    }

    private final ClassLoader loader;
    private final String root;
    private final Map<String, Resource> cache = new ConcurrentHashMap<>();

    /** @param root the resource folder, e.g. {@code "web/"} */
    public StaticResources(ClassLoader loader, String root) {
        this.loader = loader;
        this.root = root.endsWith("/") ? root : root + "/";
    }

    /**
     * Answers a GET or HEAD for {@code name} (relative to the root).
     *
     * @return false if there is no such file (or the name is not a plain relative name): the caller answers 404
     */
    public boolean serve(HttpExchange exchange, String name) throws IOException {
        Resource r = find(name);
        if (r == null) {
            return false;
        }
        exchange.setHeader("ETag", r.etag());
        exchange.setHeader("Cache-Control", "no-cache");
        String ifNoneMatch = exchange.header("If-None-Match");
        if (ifNoneMatch != null && (ifNoneMatch.strip().equals("*") || ifNoneMatch.contains(r.etag()))) {
            exchange.respond(304, null, new byte[0]);
            return true;
        }
        exchange.respond(200, r.type(), r.bytes());
        return true;
    }

    /** The content type for a file name (application/octet-stream when unknown). */
    public static String contentType(String name) {
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        return TYPES.getOrDefault(ext, "application/octet-stream");
    }

    private Resource find(String name) throws IOException {
        if (!isPlain(name)) {
            return null;
        }
        Resource cached = cache.get(name);
        if (cached != null) {
            return cached;
        }
        byte[] bytes;
        try (InputStream in = loader.getResourceAsStream(root + name)) {
            if (in == null) {
                return null;
            }
            bytes = in.readAllBytes();
        }
        Resource r = new Resource(bytes, etag(bytes), contentType(name));
        cache.put(name, r);
        return r;
    }

    /** Segments of letters, digits, '-', '_' and '.', none empty or starting with a dot. */
    static boolean isPlain(String name) {
        if (name.isEmpty() || name.length() > 512) {
            return false;
        }
        for (String segment : name.split("/", -1)) {
            if (segment.isEmpty() || segment.startsWith(".")) {
                return false;
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
                    return false;
                }
            }
        }
        return true;
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(digest, 0, 16) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
