package io.github.chatglm4j.server.http;

import java.util.Locale;

/**
 * {@code host[:port]} as the Host header carries it: a name, an IPv4 address or a bracketed IPv6 address, and an
 * optional port.
 *
 * @param host the host in lower case (an IPv6 address with its brackets)
 * @param port the port, or -1 if none was given
 */
public record HostName(String host, int port) {

    /** Parses a Host value; null if it is not valid. */
    public static HostName parse(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        String host;
        String port = null;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            if (close < 0) {
                return null;
            }
            host = value.substring(0, close + 1);
            String inner = host.substring(1, host.length() - 1);
            if (inner.isEmpty() || !inner.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
                return null;
            }
            String rest = value.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    return null;
                }
                port = rest.substring(1);
            }
        } else {
            int colon = value.lastIndexOf(':');
            host = colon < 0 ? value : value.substring(0, colon);
            port = colon < 0 ? null : value.substring(colon + 1);
            if (host.isEmpty() || !host.chars().allMatch(HostName::regNameChar)) {
                return null;
            }
        }
        int p = -1;
        if (port != null) {
            if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            p = Integer.parseInt(port);
            if (p > 65535) {
                return null;
            }
        }
        return new HostName(host.toLowerCase(Locale.ROOT), p);
    }

    static boolean isValid(String value) {
        return parse(value) != null;
    }

    /** Whether the host is an IP address literal (which no DNS answer can point elsewhere). */
    public boolean isIpLiteral() {
        return host.startsWith("[") || host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    }

    private static boolean regNameChar(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~!$&'()*+,;=%".indexOf(c) >= 0;
    }
}
