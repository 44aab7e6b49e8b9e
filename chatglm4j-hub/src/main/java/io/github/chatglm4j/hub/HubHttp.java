package io.github.chatglm4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP as the hubs speak it: a bearer token only for the hub's own host (never forwarded to the CDN a download
 * redirects to), redirects followed by hand so the hub's headers on the first hop can be read, and status codes
 * turned into {@link HubException}s that say what to do. Transient failures are {@link Transient}, for the caller
 * to retry.
 */
final class HubHttp implements AutoCloseable {
    private static final int MAX_REDIRECTS = 10;
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String USER_AGENT = "chatglm4j/0.1 (java " + Runtime.version().feature() + ")";

    private final HttpClient client;
    private final HubOptions options;
    private final RetryPolicy retry;

    HubHttp(HubOptions options, RetryPolicy retry) {
        this.options = options;
        this.retry = retry;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(options.connectTimeout())
                .build();
    }

    RetryPolicy retry() {
        return retry;
    }

    /** Ends the client's connections and threads (a pull is over). */
    @Override
    public void close() {
        client.shutdownNow();
    }

    HubOptions options() {
        return options;
    }

    /** A failure worth retrying; {@code retryAfter} is the server's header, if any. */
    static final class Transient extends IOException {
        private final String retryAfter;

        Transient(String message, String retryAfter) {
            super(message);
            this.retryAfter = retryAfter;
        }

        String retryAfter() {
            return retryAfter;
        }
    }

    /**
     * What a request was about, for error messages.
     *
     * @param ref  the model
     * @param file the file being fetched, or null for API calls
     */
    record Context(ModelRef ref, String file) {
    }

    /** GETs a JSON document, retrying transient failures. */
    JsonNode getJson(URI uri, Context context) {
        int failures = 0;
        while (true) {
            try {
                HttpRequest request = request(uri, true).build();
                HttpResponse<byte[]> response;
                try {
                    response = client.sendAsync(request, BodyHandlers.ofByteArray())
                            .get(options.connectTimeout().plus(options.idleTimeout()).toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                } catch (TimeoutException e) {
                    throw new Transient("no answer from " + uri.getHost() + " in " + options.idleTimeout().toSeconds() + " s", null);
                }
                int status = response.statusCode();
                if (status == 200) {
                    try {
                        return JSON.readTree(response.body());
                    } catch (IOException e) {
                        throw new HubException(HubException.Kind.PROTOCOL, uri + " did not answer JSON (is "
                                + options.endpoint(context.ref().source()) + " a hub endpoint?)");
                    }
                }
                checkStatus(status, response.headers(), context, uri);
                throw new HubException(HubException.Kind.PROTOCOL, "unexpected HTTP " + status + " from " + uri);
            } catch (IOException e) {
                failures++;
                waitOrGiveUp(e, failures, uri, context);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Kind.NETWORK, "interrupted", e);
            }
        }
    }

    /** Sleeps before the next try, or throws when the tries are used up. */
    void waitOrGiveUp(IOException e, int failures, URI uri, Context context) {
        if (failures >= retry.attempts()) {
            throw unreachable(e, uri, context);
        }
        String after = e instanceof Transient t ? t.retryAfter() : null;
        retry.pause(retry.delay(failures, after));
    }

    /** The one-line error after the last failed try. */
    HubException unreachable(IOException e, URI uri, Context context) {
        if (e instanceof Transient t) {
            return new HubException(HubException.Kind.NETWORK, context.ref() + ": " + t.getMessage() + " after "
                    + retry.attempts() + " tries; try again later" + alternatives(context.ref().source()), e);
        }
        String why = switch (e) {
            case UnknownHostException u -> "unknown host " + uri.getHost();
            case ConnectException c -> "cannot connect to " + uri.getHost() + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")");
            case HttpConnectTimeoutException c -> "connecting to " + uri.getHost() + " timed out";
            default -> "network error talking to " + uri.getHost() + ": " + (e.getMessage() == null ? e.toString() : e.getMessage());
        };
        return new HubException(HubException.Kind.NETWORK, context.ref() + ": " + why + " (no network?)"
                + alternatives(context.ref().source()), e);
    }

    private static String alternatives(Source source) {
        return source == Source.HUGGING_FACE
                ? "; try HF_ENDPOINT=https://hf-mirror.com or --source modelscope, or HF_HUB_OFFLINE=1 to use only cached models"
                : "; try --source huggingface, or HF_HUB_OFFLINE=1 to use only cached models";
    }

    /**
     * Opens a download: GET with {@code Range: bytes=from-[to]} when {@code from > 0} or {@code to >= 0},
     * following redirects. Returns the response of the last hop (2xx or 416) with its body not yet read, and the
     * headers of the first hop (the hub's own, with {@code X-Repo-Commit}, {@code X-Linked-Etag}...).
     */
    Opened open(URI uri, long from, long to, Context context) throws IOException, InterruptedException {
        URI current = uri;
        HttpResponse.ResponseInfo first = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = request(current, sameHost(current, options.endpoint(context.ref().source())))
                    .header("Accept-Encoding", "identity");
            if (from > 0 || to >= 0) {
                b.header("Range", "bytes=" + from + "-" + (to >= 0 ? String.valueOf(to) : ""));
            }
            HttpResponse<Flow.Publisher<List<ByteBuffer>>> response = client.send(b.build(), BodyHandlers.ofPublisher());
            int status = response.statusCode();
            HttpResponse.ResponseInfo info = info(response);
            if (first == null) {
                first = info;
            }
            if (status >= 300 && status < 400 && status != 304) {
                discard(response);
                String location = response.headers().firstValue("Location").orElseThrow(
                        () -> new HubException(HubException.Kind.PROTOCOL, "redirect without Location from " + uri));
                current = current.resolve(location);
                continue;
            }
            if (status / 100 == 2 || status == 416) {
                return new Opened(response, first);
            }
            discard(response);
            checkStatus(status, response.headers(), context, current);
            throw new HubException(HubException.Kind.PROTOCOL, "unexpected HTTP " + status + " from " + current);
        }
        throw new HubException(HubException.Kind.PROTOCOL, "more than " + MAX_REDIRECTS + " redirects from " + uri);
    }

    /** A download response with its unread body, and the hub's first-hop headers. */
    record Opened(HttpResponse<Flow.Publisher<List<ByteBuffer>>> response, HttpResponse.ResponseInfo hub) {
    }

    private static HttpResponse.ResponseInfo info(HttpResponse<?> r) {
        return new HttpResponse.ResponseInfo() {
            @Override
            public int statusCode() {
                return r.statusCode();
            }

            @Override
            public java.net.http.HttpHeaders headers() {
                return r.headers();
            }

            @Override
            public HttpClient.Version version() {
                return r.version();
            }
        };
    }

    /** Cancels an unread body (closing the connection rather than reading an error page to the end). */
    static void discard(HttpResponse<Flow.Publisher<List<ByteBuffer>>> response) {
        response.body().subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.cancel();
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onComplete() {
            }
        });
    }

    private HttpRequest.Builder request(URI uri, boolean withToken) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET()
                .timeout(options.connectTimeout().plus(options.idleTimeout()))
                .header("User-Agent", USER_AGENT);
        if (withToken && options.hfToken() != null && sameHost(uri, options.hfEndpoint())) {
            b.header("Authorization", "Bearer " + options.hfToken());
        }
        return b;
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort()
                && a.getScheme().equalsIgnoreCase(b.getScheme());
    }

    /**
     * Throws for a failed status: {@link Transient} for 429, 5xx and 408, a {@link HubException} naming the cause
     * otherwise. Hugging Face says which 4xx it is in {@code X-Error-Code}.
     */
    void checkStatus(int status, java.net.http.HttpHeaders headers, Context context, URI uri) throws Transient {
        if (status == 429 || status == 408 || status >= 500) {
            throw new Transient("HTTP " + status + " from " + uri.getHost(), headers.firstValue("Retry-After").orElse(null));
        }
        String code = headers.firstValue("X-Error-Code").orElse("");
        String serverMessage = headers.firstValue("X-Error-Message").orElse("");
        ModelRef ref = context.ref();
        Source source = ref.source();
        String where = options.endpoint(source).toString();
        boolean tokenSent = source == Source.HUGGING_FACE && options.hfToken() != null;
        String page = where + "/" + ref.repo();
        if (code.equals("GatedRepo") || (status == 403 && source == Source.HUGGING_FACE && sameHost(uri, options.hfEndpoint()))) {
            throw new HubException(HubException.Kind.UNAUTHORIZED, tokenSent
                    ? ref.repo() + " is gated and your HF_TOKEN has no access (HTTP " + status + "): request access on " + page
                    + " with the account of the token"
                    : ref.repo() + " is gated (HTTP " + status + "): accept its terms on " + page + ", then set HF_TOKEN to an access token of that account");
        }
        if (code.equals("RevisionNotFound")) {
            throw new HubException(HubException.Kind.REVISION_NOT_FOUND, ref.repo() + " has no revision '" + ref.revision()
                    + "' on " + where + " (expected a branch, tag or commit)");
        }
        if (code.equals("EntryNotFound") || (status == 404 && context.file() != null && !code.equals("RepoNotFound"))) {
            throw new HubException(HubException.Kind.FILE_NOT_FOUND, ref.repo() + "@" + ref.revision() + " has no file '"
                    + context.file() + "' on " + where);
        }
        if (status == 401 || code.equals("RepoNotFound") || status == 404) {
            String hint = tokenSent ? "check the name (or that HF_TOKEN can read it)"
                    : source == Source.HUGGING_FACE ? "check the name; a private repository needs HF_TOKEN" : "check the name";
            throw new HubException(HubException.Kind.REPO_NOT_FOUND, (source == Source.MODELSCOPE ? "modelscope:" : "")
                    + ref.repo() + ": no such model on " + where + " (HTTP " + status + "): " + hint);
        }
        if (status == 403) {
            throw new HubException(HubException.Kind.UNAUTHORIZED, ref + ": access denied by " + where + " (HTTP 403)"
                    + (serverMessage.isEmpty() ? "" : ": " + serverMessage));
        }
        throw new HubException(HubException.Kind.PROTOCOL, "HTTP " + status + " from " + uri
                + (serverMessage.isEmpty() ? "" : ": " + serverMessage.toLowerCase(Locale.ROOT)));
    }
}
