package io.github.chatglm4j.server.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A request line and its header fields, parsed strictly (RFC 9112): anything two parsers could read differently
 * (bare line feeds, folded lines, spaces before the colon, control characters) is refused with 400 rather than
 * guessed at.
 *
 * @param method    the method token, e.g. {@code POST}
 * @param target    the request target as sent
 * @param path      the decoded path ({@code *} for {@code OPTIONS *})
 * @param query     the raw query after {@code ?}, or null
 * @param authority the host of an absolute-form target ({@code http://host/path}), which replaces {@code Host}; else null
 * @param http11    HTTP/1.1 (else HTTP/1.0)
 * @param headers   the header fields
 */
public record RequestHead(String method, String target, String path, String query, String authority, boolean http11,
                          Headers headers) {
    /** More header fields than any client sends; a bound on the work of parsing them. */
    static final int MAX_FIELDS = 100;

    /** The host the request names: the absolute target's authority, else the Host header (null if absent). */
    public String host() {
        return authority != null ? authority : headers.first("Host");
    }

    /**
     * Reads the next head, or returns null if the connection ends before it starts.
     *
     * @param maxBytes request line and headers together may not be longer
     */
    static RequestHead read(ConnectionInput in, int maxBytes) throws IOException {
        HttpError uriTooLong = new HttpError(414, "The request line is longer than " + maxBytes + " bytes.", "uri_too_long");
        String line = in.readLine(maxBytes, uriTooLong);
        if (line != null && line.isEmpty()) {
            line = in.readLine(maxBytes, uriTooLong); // RFC 9112 2.2: ignore one empty line before a request
        }
        if (line == null) {
            return null;
        }
        int budget = maxBytes - line.length();
        String[] parts = line.split(" ", -1);
        if (parts.length != 3) {
            throw HttpError.badRequest("The request line must be 'METHOD target HTTP/1.1'.");
        }
        String method = parts[0];
        String target = parts[1];
        String version = parts[2];
        if (!isToken(method)) {
            throw HttpError.badRequest("The request method is not a valid token.");
        }
        boolean http11;
        if (version.equals("HTTP/1.1")) {
            http11 = true;
        } else if (version.equals("HTTP/1.0")) {
            http11 = false;
        } else if (version.matches("HTTP/[0-9](\\.[0-9])?")) {
            throw new HttpError(505, "This server speaks HTTP/1.1 (and 1.0), not " + version + ".", "http_version_not_supported");
        } else {
            throw HttpError.badRequest("The request line does not end with an HTTP version.");
        }
        HttpError tooLarge = new HttpError(431, "The request headers are larger than " + maxBytes + " bytes.", "headers_too_large");
        var headers = new Headers();
        while (true) {
            String field = in.readLine(Math.max(0, budget), tooLarge);
            if (field == null) {
                throw HttpError.badRequest("The request ended inside its headers.");
            }
            budget -= field.length() + 2;
            if (budget < 0) {
                throw tooLarge;
            }
            if (field.isEmpty()) {
                break;
            }
            if (headers.size() >= MAX_FIELDS) {
                throw tooLarge;
            }
            addField(headers, field);
        }
        return target(method, target, http11, headers);
    }

    private static void addField(Headers headers, String field) {
        char first = field.charAt(0);
        if (first == ' ' || first == '\t') {
            throw HttpError.badRequest("Folded header lines (obs-fold) are not accepted.");
        }
        int colon = field.indexOf(':');
        if (colon <= 0) {
            throw HttpError.badRequest("A header line has no field name and colon.");
        }
        String name = field.substring(0, colon);
        if (!isToken(name)) {
            throw HttpError.badRequest("The header name '" + HttpError.printable(name, 40) + "' is not a valid token (no spaces before the colon).");
        }
        String value = field.substring(colon + 1);
        int a = 0;
        int b = value.length();
        while (a < b && (value.charAt(a) == ' ' || value.charAt(a) == '\t')) {
            a++;
        }
        while (b > a && (value.charAt(b - 1) == ' ' || value.charAt(b - 1) == '\t')) {
            b--;
        }
        value = value.substring(a, b);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                throw HttpError.badRequest("The header " + name + " holds a control character.");
            }
        }
        headers.add(name, value);
    }

    private static RequestHead target(String method, String target, boolean http11, Headers headers) {
        String authority = null;
        String rest = target;
        if (target.equals("*")) {
            if (!method.equals("OPTIONS")) {
                throw HttpError.badRequest("The target '*' is only valid for OPTIONS.");
            }
            return new RequestHead(method, target, "*", null, null, http11, headers);
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw HttpError.badRequest("The request target holds a character that must be percent-encoded.");
            }
        }
        String lower = target.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            int start = target.indexOf("//") + 2;
            int end = start;
            while (end < target.length() && target.charAt(end) != '/' && target.charAt(end) != '?') {
                end++;
            }
            authority = target.substring(start, end);
            if (authority.isEmpty() || authority.contains("@")) {
                throw HttpError.badRequest("The absolute request target has no valid host.");
            }
            rest = end == target.length() ? "/" : target.charAt(end) == '?' ? "/" + target.substring(end) : target.substring(end);
        } else if (!target.startsWith("/")) {
            throw HttpError.badRequest("The request target must be a path starting with '/'.");
        }
        int q = rest.indexOf('?');
        String rawPath = q < 0 ? rest : rest.substring(0, q);
        String query = q < 0 ? null : rest.substring(q + 1);
        int fragment = query == null ? rawPath.indexOf('#') : query.indexOf('#');
        if (fragment >= 0) {
            throw HttpError.badRequest("The request target may not hold a fragment ('#').");
        }
        return new RequestHead(method, target, decodePath(rawPath), query, authority, http11, headers);
    }

    /** Percent-decodes a path strictly: every escape is two hex digits and the result is valid UTF-8 without controls. */
    static String decodePath(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        var bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '%') {
                bytes.write(c);
                continue;
            }
            int hi = i + 1 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
            int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
            if (hi < 0 || lo < 0) {
                throw HttpError.badRequest("The path holds a '%' that is not followed by two hex digits.");
            }
            bytes.write(hi << 4 | lo);
            i += 2;
        }
        String path;
        try {
            path = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw HttpError.badRequest("The decoded path is not valid UTF-8.");
        }
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw HttpError.badRequest("The decoded path holds a control character.");
        }
        return path;
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
