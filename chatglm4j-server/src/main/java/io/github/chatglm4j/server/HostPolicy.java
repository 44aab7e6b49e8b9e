package io.github.chatglm4j.server;

import io.github.chatglm4j.server.http.HostName;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * Which {@code Host} values the server answers. A web page can make the browser send requests to a local server
 * through a name of the attacker's (DNS rebinding: {@code evil.example} first resolves to the attacker, then to
 * 127.0.0.1); the browser then sends {@code Host: evil.example}, and refusing that name is the defence. Accepted:
 * {@code localhost}, {@code 127.0.0.1}, {@code [::1]} and the bound address, with the server's port; when bound to
 * every interface, any IP address literal (no DNS answer can make one name another host); and the configured extra
 * names ({@code name} for any port, {@code name:port}, {@code *} for anything).
 */
final class HostPolicy {
    private static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1", "[::1]");

    private final List<String> names = new ArrayList<>();
    private final boolean wildcardBind;
    private final List<HostName> extra = new ArrayList<>();
    private final boolean any;
    private final IntSupplier port;

    HostPolicy(String bindHost, List<String> allowed, IntSupplier port) {
        this.port = port;
        names.addAll(LOOPBACK);
        String bind = bindHost.toLowerCase(Locale.ROOT);
        wildcardBind = bind.equals("0.0.0.0") || bind.equals("::") || bind.equals("[::]") || bind.equals("0:0:0:0:0:0:0:0");
        if (!wildcardBind) {
            names.add(bind.contains(":") && !bind.startsWith("[") ? "[" + bind + "]" : bind);
        }
        boolean star = false;
        for (String a : allowed) {
            if (a.equals("*")) {
                star = true;
                continue;
            }
            HostName h = HostName.parse(a);
            if (h == null) {
                throw new IllegalArgumentException("allowed host '" + a + "' is not a valid host name or host:port");
            }
            extra.add(h);
        }
        this.any = star;
    }

    boolean allows(String hostHeader) {
        if (any) {
            return true;
        }
        HostName h = HostName.parse(hostHeader);
        if (h == null) {
            return false;
        }
        for (HostName e : extra) {
            if (e.host().equals(h.host()) && (e.port() < 0 || e.port() == effectivePort(h))) {
                return true;
            }
        }
        if (wildcardBind && h.isIpLiteral()) {
            return true;
        }
        return names.contains(h.host()) && effectivePort(h) == port.getAsInt();
    }

    private static int effectivePort(HostName h) {
        return h.port() < 0 ? 80 : h.port();
    }
}
