package io.github.chatglm4j.hub.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for the Hugging Face Hub and ModelScope, on 127.0.0.1: the subset of their APIs the client uses,
 * written from their documented behaviour, plus fault injection. LFS files (weights, tokenizer.model, GGUF) are
 * served through a redirect to a second server on another port (the "CDN"), as the real hub does; small JSON
 * files come straight from {@code resolve}.
 *
 * <p>Hugging Face: {@code GET /api/models/ORG/NAME/revision/REV[?blobs=true]} (sha, siblings with size, blobId,
 * lfs.sha256), {@code GET /api/models/ORG/NAME/tree/REV} (path, size, oid, lfs.oid), {@code GET
 * /ORG/NAME/resolve/REV/PATH} (X-Repo-Commit, X-Linked-Etag, X-Linked-Size, ETag; X-Error-Code on errors).
 * ModelScope: {@code GET /api/v1/models/ORG/NAME/repo/files?Revision=..&Recursive=true} and {@code GET
 * /api/v1/models/ORG/NAME/repo?Revision=..&FilePath=..}. File bodies honour {@code Range: bytes=A-[B]}.
 */
public final class FakeHub implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");

    /** One request as the server saw it. */
    public record Request(String server, String method, String path, String query, String range, String authorization) {
        public boolean isFileBody() {
            return path.startsWith("/cdn/") || path.contains("/resolve/") || (path.endsWith("/repo") && query != null);
        }
    }

    /** What to do instead of (or while) answering a matching request. */
    public sealed interface Fault {
    }

    /** Send the headers of the full answer, then only {@code bytes} bytes, then close the connection. */
    public record Drop(long bytes) implements Fault {
    }

    /** Flip one byte in the middle of the body. */
    public record Corrupt() implements Fault {
    }

    /** Answer 200 with the whole file, whatever Range says. */
    public record IgnoreRange() implements Fault {
    }

    /** Answer this status with these headers and no body. */
    public record Status(int code, Map<String, String> headers) implements Fault {
    }

    /** Send {@code bytes} bytes, count down {@code reached}, wait for {@code release}, then send the rest. */
    public record Gate(long bytes, CountDownLatch reached, CountDownLatch release) implements Fault {
    }

    private record Rule(Predicate<Request> matches, AtomicInteger remaining, Fault fault) {
    }

    /** A repository: files by path, a commit, branch names, access rules. */
    public static final class Repo {
        public final String id;
        public final String commit;
        public final Map<String, byte[]> files = new LinkedHashMap<>();
        public final Map<String, String> refs = new LinkedHashMap<>();
        public String token;   // required bearer token, or null
        public boolean gated;  // 401/403 GatedRepo instead of 401 RepoNotFound without the token

        public Repo(String id, String commit) {
            this.id = id;
            this.commit = commit;
            refs.put("main", commit);
            refs.put("master", commit);
        }

        public Repo file(String path, byte[] content) {
            files.put(path, content);
            return this;
        }
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Repo> repos = new LinkedHashMap<>();
    private final Map<String, byte[]> blobs = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    public final List<Request> requests = new CopyOnWriteArrayList<>();
    /** Model info without sizes and checksums (as some mirrors answer): the client must use the tree API. */
    public volatile boolean infoWithoutBlobs;

    public FakeHub() {
        try {
            InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            hub = HttpServer.create(loopback, 0);
            cdn = HttpServer.create(loopback, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        hub.createContext("/", ex -> handle("hub", ex));
        cdn.createContext("/", ex -> handle("cdn", ex));
        hub.setExecutor(executor);
        cdn.setExecutor(executor);
        hub.start();
        cdn.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    private URI cdnEndpoint() {
        return URI.create("http://127.0.0.1:" + cdn.getAddress().getPort());
    }

    /** A repository with every regular file of {@code dir}. */
    public Repo addRepo(String id, String commit, Path dir) {
        Repo repo = new Repo(id, commit);
        try (var files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                if (Files.isRegularFile(f)) {
                    repo.file(f.getFileName().toString(), Files.readAllBytes(f));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        repos.put(id, repo);
        return repo;
    }

    public Repo addRepo(Repo repo) {
        repos.put(repo.id, repo);
        return repo;
    }

    /** Applies {@code fault} to the next {@code times} requests that match. */
    public void fault(Predicate<Request> matches, int times, Fault fault) {
        rules.add(new Rule(matches, new AtomicInteger(times), fault));
    }

    public static Predicate<Request> fileBody(String path) {
        return r -> r.isFileBody() && (r.path().endsWith("/" + path) || (r.query() != null && r.query().contains("FilePath=" + path)));
    }

    /** Requests for the content of one file (through the CDN or directly). */
    public List<Request> bodyRequests(String path) {
        Repo any = repos.values().iterator().next();
        String sha = sha256(any.files.get(path));
        return requests.stream().filter(r -> r.isFileBody() && (r.path().endsWith("/" + path) || r.path().endsWith("/" + sha)
                || (r.query() != null && r.query().contains("FilePath=" + path)))).filter(r -> !r.path().contains("/resolve/") || !isLfs(path)).toList();
    }

    public static boolean isLfs(String path) {
        return !path.endsWith(".json") && !path.endsWith(".py") && !path.endsWith(".md");
    }

    private static final Map<byte[], String> SHA256 = Collections.synchronizedMap(new java.util.IdentityHashMap<>());
    private static final Map<byte[], String> GIT_OID = Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    public static String sha256(byte[] b) {
        return SHA256.computeIfAbsent(b, k -> hex("SHA-256", k, null));
    }

    public static String gitOid(byte[] b) {
        return GIT_OID.computeIfAbsent(b, k -> hex("SHA-1", k, ("blob " + k.length + "\0").getBytes(StandardCharsets.US_ASCII)));
    }

    private static String hex(String algorithm, byte[] b, byte[] prefix) {
        try {
            MessageDigest d = MessageDigest.getInstance(algorithm);
            if (prefix != null) {
                d.update(prefix);
            }
            return HexFormat.of().formatHex(d.digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(String server, HttpExchange ex) throws IOException {
        URI uri = ex.getRequestURI();
        var request = new Request(server, ex.getRequestMethod(), uri.getRawPath(), uri.getRawQuery(),
                ex.getRequestHeaders().getFirst("Range"), ex.getRequestHeaders().getFirst("Authorization"));
        requests.add(request);
        try (ex) {
            Fault fault = null;
            for (Rule rule : rules) {
                if (rule.matches().test(request) && rule.remaining().getAndDecrement() > 0) {
                    fault = rule.fault();
                    break;
                }
            }
            if (fault instanceof Status s) {
                s.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
                ex.sendResponseHeaders(s.code(), -1);
                return;
            }
            String path = URLDecoder.decode(uri.getRawPath().replace("+", "%2B"), StandardCharsets.UTF_8);
            if (server.equals("cdn")) {
                byte[] content = blobs.get(path.substring("/cdn/".length()));
                if (content == null) {
                    ex.sendResponseHeaders(404, -1);
                } else {
                    serve(ex, content, request, fault);
                }
                return;
            }
            route(ex, path, request, fault);
        } catch (IOException e) {
            // a fault closed the connection on purpose, or the client went away
        }
    }

    private static final Pattern INFO = Pattern.compile("/api/models/([^/]+/[^/]+)/revision/(.+)");
    private static final Pattern TREE = Pattern.compile("/api/models/([^/]+/[^/]+)/tree/([^/]+)");
    private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern MS_FILES = Pattern.compile("/api/v1/models/([^/]+/[^/]+)/repo/files");
    private static final Pattern MS_FILE = Pattern.compile("/api/v1/models/([^/]+/[^/]+)/repo");

    private void route(HttpExchange ex, String path, Request request, Fault fault) throws IOException {
        Matcher m;
        Map<String, String> query = query(request.query());
        if ((m = MS_FILES.matcher(path)).matches()) {
            Repo repo = repos.get(m.group(1));
            if (repo == null) {
                json(ex, 404, JSON.createObjectNode().put("Code", 10010205001L).put("Message", "model not found"));
                return;
            }
            ObjectNode answer = JSON.createObjectNode().put("Code", 200);
            ArrayNode files = answer.putObject("Data").putArray("Files");
            repo.files.forEach((p, c) -> files.addObject().put("Name", p).put("Path", p).put("Type", "blob")
                    .put("Size", c.length).put("Sha256", sha256(c)).put("Revision", repo.commit));
            json(ex, 200, answer);
            return;
        }
        if ((m = MS_FILE.matcher(path)).matches()) {
            Repo repo = repos.get(m.group(1));
            byte[] content = repo == null ? null : repo.files.get(query.getOrDefault("FilePath", ""));
            if (content == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                serve(ex, content, request, fault);
            }
            return;
        }
        if ((m = INFO.matcher(path)).matches() || (m = TREE.matcher(path)).matches() || (m = RESOLVE.matcher(path)).matches()) {
            Repo repo = repos.get(m.group(1));
            if (repo == null) {
                error(ex, 401, "RepoNotFound");   // the hub answers 401 for unknown and private repositories alike
                return;
            }
            if (repo.token != null && !("Bearer " + repo.token).equals(request.authorization())) {
                if (repo.gated) {
                    error(ex, request.authorization() == null ? 401 : 403, "GatedRepo");
                } else {
                    error(ex, 401, "RepoNotFound");
                }
                return;
            }
            String commit = repo.refs.containsKey(m.group(2)) ? repo.refs.get(m.group(2)) : m.group(2).equals(repo.commit) ? repo.commit : null;
            if (commit == null) {
                error(ex, 404, "RevisionNotFound");
                return;
            }
            if (path.startsWith("/api/models/") && path.contains("/revision/")) {
                ObjectNode info = JSON.createObjectNode().put("id", repo.id).put("sha", commit);
                ArrayNode siblings = info.putArray("siblings");
                boolean blobs = !infoWithoutBlobs && "true".equals(query.get("blobs"));
                repo.files.forEach((p, c) -> {
                    ObjectNode s = siblings.addObject().put("rfilename", p);
                    if (blobs) {
                        s.put("size", c.length).put("blobId", gitOid(c));
                        if (isLfs(p)) {
                            s.putObject("lfs").put("sha256", sha256(c)).put("size", c.length).put("pointerSize", 134);
                        }
                    }
                });
                json(ex, 200, info);
            } else if (path.startsWith("/api/models/")) {
                ArrayNode tree = JSON.createArrayNode();
                repo.files.forEach((p, c) -> {
                    ObjectNode e = tree.addObject().put("type", "file").put("oid", gitOid(c)).put("size", c.length).put("path", p);
                    if (isLfs(p)) {
                        e.putObject("lfs").put("oid", sha256(c)).put("size", c.length).put("pointerSize", 134);
                    }
                });
                json(ex, 200, tree);
            } else {
                byte[] content = repo.files.get(m.group(3));
                if (content == null) {
                    ex.getResponseHeaders().add("X-Repo-Commit", commit);
                    error(ex, 404, "EntryNotFound");
                    return;
                }
                ex.getResponseHeaders().add("X-Repo-Commit", commit);
                if (isLfs(m.group(3))) {
                    String sha = sha256(content);
                    blobs.put(sha, content);
                    ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha + "\"");
                    ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(content.length));
                    ex.getResponseHeaders().add("ETag", "\"" + gitOid(content) + "\"");
                    ex.getResponseHeaders().add("Location", cdnEndpoint() + "/cdn/" + sha);
                    ex.sendResponseHeaders(302, -1);
                } else {
                    ex.getResponseHeaders().add("ETag", "\"" + gitOid(content) + "\"");
                    serve(ex, content, request, fault);
                }
            }
            return;
        }
        ex.sendResponseHeaders(404, -1);
    }

    private static void error(HttpExchange ex, int status, String code) throws IOException {
        ex.getResponseHeaders().add("X-Error-Code", code);
        ex.getResponseHeaders().add("X-Error-Message", code);
        ex.sendResponseHeaders(status, -1);
    }

    private static void json(HttpExchange ex, int status, Object body) throws IOException {
        byte[] b = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw != null) {
            for (String kv : raw.split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    q.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return q;
    }

    /** A file body: whole, or the requested range; faults applied. */
    private static void serve(HttpExchange ex, byte[] content, Request request, Fault fault) throws IOException {
        byte[] body = content;
        if (fault instanceof Corrupt) {
            body = content.clone();
            body[body.length / 2] ^= 0x5a;
        }
        long from = 0;
        long to = body.length - 1L;
        int status = 200;
        Matcher m = request.range() == null ? null : RANGE.matcher(request.range());
        if (m != null && m.matches() && !(fault instanceof IgnoreRange)) {
            from = Long.parseLong(m.group(1));
            if (!m.group(2).isEmpty()) {
                to = Math.min(to, Long.parseLong(m.group(2)));
            }
            if (from >= body.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + body.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            status = 206;
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + to + "/" + body.length);
        }
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
        long length = to - from + 1;
        ex.sendResponseHeaders(status, length);
        OutputStream out = ex.getResponseBody();
        long limit = fault instanceof Drop d ? Math.min(d.bytes(), length) : fault instanceof Gate g ? Math.min(g.bytes(), length) : length;
        write(out, body, from, limit);
        out.flush();
        if (fault instanceof Drop) {
            // closing with bytes still owed makes the server drop the connection: the client sees a short body
            throw new IOException("dropped on purpose");
        }
        if (fault instanceof Gate g) {
            g.reached().countDown();
            try {
                if (!g.release().await(60, TimeUnit.SECONDS)) {
                    throw new IOException("gate never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        write(out, body, from + limit, length - limit);
    }

    /** In 1 MiB pieces, as a server streams a file. */
    private static void write(OutputStream out, byte[] body, long from, long length) throws IOException {
        for (long done = 0; done < length; done += 1 << 20) {
            out.write(body, (int) (from + done), (int) Math.min(1 << 20, length - done));
        }
    }

    /** Bytes of a served file as the repo holds them. */
    public byte[] content(String repo, String path) {
        return repos.get(repo).files.get(path);
    }

    public List<Request> requestsTo(String pathPart) {
        List<Request> out = new ArrayList<>();
        for (Request r : requests) {
            if (r.path().contains(pathPart) || (r.query() != null && r.query().contains(pathPart))) {
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        executor.shutdownNow();
    }
}
