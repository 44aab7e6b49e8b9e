package io.github.chatglm4j.server;

import io.github.chatglm4j.server.http.HttpExchange;
import io.github.chatglm4j.server.http.StaticResources;

import java.io.IOException;

/**
 * The web UI: {@code GET /} (and {@code /index.html}) is the page, {@code /assets/...} its scripts, styles, fonts
 * and the vendored libraries, all from the jar (folder {@code chatglm4j-web/}: not a package name, so a named module
 * does not hide it). Served without
 * the API key (the page asks for it when the API answers 401) but behind the same Host allow-list as the API.
 *
 * <p>Every answer carries a Content-Security-Policy that lets the page run only its own scripts and talk only to
 * its own origin: model text is rendered to sanitized HTML, and even a sanitizer bug could then neither run an
 * inline script or event handler nor send anything elsewhere. Style attributes are allowed (KaTeX positions glyphs
 * with them); images may be {@code data:} URLs (the interpreter's figures) or {@code blob:} URLs.
 *
 * <p>Public for servers that embed the page beside their own routes (the browser tests' stand-in API does).
 */
public final class WebUi {
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final StaticResources files = new StaticResources(WebUi.class.getClassLoader(), "chatglm4j-web/");

    /** Whether the path belongs to the page (the server answers other paths itself). */
    public static boolean owns(String path) {
        return path.equals("/") || path.equals("/index.html") || path.startsWith("/assets/");
    }

    /**
     * Answers a GET or HEAD of a page path.
     *
     * @return false if there is no such file (the caller answers 404)
     */
    public boolean serve(HttpExchange exchange, String path) throws IOException {
        String name = path.equals("/") ? "index.html" : path.substring(1);
        exchange.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        exchange.setHeader("X-Content-Type-Options", "nosniff");
        exchange.setHeader("Referrer-Policy", "no-referrer");
        exchange.setHeader("X-Frame-Options", "DENY");
        return files.serve(exchange, name);
    }
}
