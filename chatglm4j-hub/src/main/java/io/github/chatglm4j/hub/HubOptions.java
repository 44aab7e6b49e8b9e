package io.github.chatglm4j.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Where to download from and where to keep models. {@link #fromEnvironment()} reads the variables
 * {@code huggingface_hub} and {@code modelscope} read, so both tools share one cache:
 * <ul>
 *   <li>{@code HF_HUB_CACHE} (else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub}, else
 *       {@code ~/.cache/huggingface/hub})</li>
 *   <li>{@code HF_ENDPOINT} (e.g. {@code https://hf-mirror.com}), {@code HF_TOKEN} (else the file
 *       {@code $HF_HOME/token} that {@code huggingface-cli login} writes), {@code HF_HUB_OFFLINE=1}</li>
 *   <li>{@code MODELSCOPE_CACHE} (else {@code ~/.cache/modelscope/hub}), {@code MODELSCOPE_DOMAIN}</li>
 * </ul>
 *
 * <pre>{@code
 * HubOptions options = HubOptions.fromEnvironment().withSource(Source.MODELSCOPE);
 * }</pre>
 *
 * @param source            the source of references without a prefix
 * @param hfEndpoint        Hugging Face API and download base URL
 * @param hfToken           bearer token for gated and private repositories, or null
 * @param offline           never touch the network; only the caches answer
 * @param hfCache           the Hugging Face hub cache directory
 * @param modelScopeEndpoint ModelScope base URL
 * @param modelScopeCache   the ModelScope cache directory (models go to its {@code models/} subdirectory)
 * @param connections       parallel ranged connections for one large file (1: one stream)
 * @param connectTimeout    for connecting and for response headers
 * @param idleTimeout       a transfer with no data for this long is dropped and retried
 */
public record HubOptions(Source source, URI hfEndpoint, String hfToken, boolean offline, Path hfCache,
                         URI modelScopeEndpoint, Path modelScopeCache, int connections, Duration connectTimeout,
                         Duration idleTimeout) {
    public static final URI HUGGING_FACE = URI.create("https://huggingface.co");
    public static final URI MODELSCOPE = URI.create("https://www.modelscope.cn");

    public HubOptions {
        if (connections < 1) {
            throw new IllegalArgumentException("connections must be at least 1, got " + connections);
        }
        hfEndpoint = withoutTrailingSlash(hfEndpoint);
        modelScopeEndpoint = withoutTrailingSlash(modelScopeEndpoint);
    }

    /** The options of this process's environment and home directory. */
    public static HubOptions fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** The options a given environment means (for tests and embedding). */
    public static HubOptions fromEnvironment(Map<String, String> env, Path home) {
        Path xdgCache = path(env, "XDG_CACHE_HOME", home.resolve(".cache"));
        Path hfHome = path(env, "HF_HOME", xdgCache.resolve("huggingface"));
        Path hfCache = path(env, "HF_HUB_CACHE", path(env, "HUGGINGFACE_HUB_CACHE", hfHome.resolve("hub")));
        String token = firstNonBlank(env.get("HF_TOKEN"), env.get("HUGGING_FACE_HUB_TOKEN"));
        if (token == null) {
            token = readToken(path(env, "HF_TOKEN_PATH", hfHome.resolve("token")));
        }
        URI hf = uri(env.get("HF_ENDPOINT"), HUGGING_FACE);
        String domain = firstNonBlank(env.get("MODELSCOPE_ENDPOINT"), env.get("MODELSCOPE_DOMAIN"));
        URI ms = domain == null ? MODELSCOPE : uri(domain.contains("://") ? domain : "https://" + domain, MODELSCOPE);
        Path msCache = path(env, "MODELSCOPE_CACHE", home.resolve(".cache").resolve("modelscope").resolve("hub"));
        return new HubOptions(Source.HUGGING_FACE, hf, token, truthy(env.get("HF_HUB_OFFLINE")), hfCache, ms, msCache,
                1, Duration.ofSeconds(20), Duration.ofSeconds(60));
    }

    public HubOptions withSource(Source value) {
        return new HubOptions(value, hfEndpoint, hfToken, offline, hfCache, modelScopeEndpoint, modelScopeCache, connections, connectTimeout, idleTimeout);
    }

    public HubOptions withHfEndpoint(URI value) {
        return new HubOptions(source, value, hfToken, offline, hfCache, modelScopeEndpoint, modelScopeCache, connections, connectTimeout, idleTimeout);
    }

    public HubOptions withHfToken(String value) {
        return new HubOptions(source, hfEndpoint, value, offline, hfCache, modelScopeEndpoint, modelScopeCache, connections, connectTimeout, idleTimeout);
    }

    public HubOptions withOffline(boolean value) {
        return new HubOptions(source, hfEndpoint, hfToken, value, hfCache, modelScopeEndpoint, modelScopeCache, connections, connectTimeout, idleTimeout);
    }

    public HubOptions withHfCache(Path value) {
        return new HubOptions(source, hfEndpoint, hfToken, offline, value, modelScopeEndpoint, modelScopeCache, connections, connectTimeout, idleTimeout);
    }

    public HubOptions withModelScope(URI endpoint, Path cache) {
        return new HubOptions(source, hfEndpoint, hfToken, offline, hfCache, endpoint, cache, connections, connectTimeout, idleTimeout);
    }

    public HubOptions withConnections(int value) {
        return new HubOptions(source, hfEndpoint, hfToken, offline, hfCache, modelScopeEndpoint, modelScopeCache, value, connectTimeout, idleTimeout);
    }

    public HubOptions withTimeouts(Duration connect, Duration idle) {
        return new HubOptions(source, hfEndpoint, hfToken, offline, hfCache, modelScopeEndpoint, modelScopeCache, connections, connect, idle);
    }

    /** The endpoint of a source. */
    public URI endpoint(Source s) {
        return s == Source.MODELSCOPE ? modelScopeEndpoint : hfEndpoint;
    }

    /** The cache directory of a source. */
    public Path cache(Source s) {
        return s == Source.MODELSCOPE ? modelScopeCache : hfCache;
    }

    @Override
    public String toString() {
        // never print the token
        return "HubOptions[source=" + source + ", hfEndpoint=" + hfEndpoint + ", token=" + (hfToken == null ? "none" : "set")
                + ", offline=" + offline + ", hfCache=" + hfCache + ", modelScopeEndpoint=" + modelScopeEndpoint
                + ", modelScopeCache=" + modelScopeCache + ", connections=" + connections + "]";
    }

    private static boolean truthy(String v) {
        return v != null && switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes", "on" -> true;
            default -> false;
        };
    }

    private static String firstNonBlank(String a, String b) {
        return a != null && !a.isBlank() ? a.strip() : b != null && !b.isBlank() ? b.strip() : null;
    }

    private static Path path(Map<String, String> env, String name, Path fallback) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        return v.startsWith("~/") ? Path.of(System.getProperty("user.home"), v.substring(2)) : Path.of(v);
    }

    private static URI uri(String v, URI fallback) {
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            URI u = URI.create(v.strip());
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException();
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Kind.PROTOCOL, "'" + v + "' is not a URL (expected e.g. https://hf-mirror.com)");
        }
    }

    private static String readToken(Path file) {
        try {
            return Files.isRegularFile(file) ? firstNonBlank(Files.readString(file), null) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static URI withoutTrailingSlash(URI u) {
        String s = u.toString();
        return s.endsWith("/") ? URI.create(s.substring(0, s.length() - 1)) : u;
    }
}
