package io.pgwarden.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A database entry's servers: {@code host}/{@code port} for one, {@code hosts: [host:port, ...]} for several, with
 * {@code target_session_attrs} choosing among them and {@code failover_timeout} holding clients while none fits.
 */
final class ClusterBinder {
    static final List<String> KEYS = List.of("host", "hosts", "port", "target_session_attrs", "failover_timeout");
    private static final String DEFAULT_HOST = "127.0.0.1";
    private static final int DEFAULT_PORT = 5432;

    private final ConfigReader reader;

    ClusterBinder(ConfigReader reader) {
        this.reader = reader;
    }

    ClusterSettings bind(String path, Map<String, Object> map) {
        int port = reader.read(path, map, "port", DEFAULT_PORT, (p, v) -> reader.integer(p, v, 1, 65535));
        List<HostPort> hosts;
        if (map.containsKey("hosts")) {
            if (map.containsKey("host")) {
                reader.problem(ConfigReader.child(path, "host"), "cannot be given together with "
                        + ConfigReader.child(path, "hosts") + "; list every server under hosts");
            }
            hosts = hosts(ConfigReader.child(path, "hosts"), map.get("hosts"), port);
        } else {
            String host = reader.read(path, map, "host", DEFAULT_HOST, reader::nonEmptyString);
            hosts = List.of(new HostPort(host, port));
        }
        // libpq's own default for one host is any; for several, a pooler that writes wants the primary.
        TargetSessionAttrs fallback = hosts.size() > 1 ? TargetSessionAttrs.READ_WRITE : TargetSessionAttrs.ANY;
        TargetSessionAttrs attrs = reader.read(path, map, "target_session_attrs", fallback,
                (p, v) -> reader.choice(p, v, TargetSessionAttrs.byConfigName()));
        Duration failoverTimeout = reader.read(path, map, "failover_timeout",
                ClusterSettings.DEFAULT_FAILOVER_TIMEOUT, reader::positiveDuration);
        return new ClusterSettings(hosts.isEmpty() ? List.of(new HostPort(DEFAULT_HOST, port)) : hosts, attrs,
                failoverTimeout);
    }

    private List<HostPort> hosts(String path, Object value, int defaultPort) {
        Optional<List<Object>> items = reader.list(path, value, "a list of host:port addresses",
                "; write [" + value + "]");
        if (items.isEmpty()) {
            return List.of();
        }
        if (items.get().isEmpty()) {
            reader.problem(path, "must list at least one host:port");
        }
        Set<HostPort> seen = new LinkedHashSet<>();
        List<HostPort> hosts = new ArrayList<>();
        for (int i = 0; i < items.get().size(); i++) {
            String itemPath = path + "[" + i + "]";
            Object item = items.get().get(i);
            reader.nonEmptyString(itemPath, item instanceof Integer ? String.valueOf(item) : item)
                    .flatMap(text -> parse(itemPath, text.trim(), defaultPort))
                    .ifPresent(host -> {
                        if (!seen.add(host)) {
                            reader.problem(itemPath, host + " is listed twice");
                        } else {
                            hosts.add(host);
                        }
                    });
        }
        return hosts;
    }

    /** {@code host}, {@code host:port}, {@code [v6]:port} or a bare IPv6 literal. */
    private Optional<HostPort> parse(String path, String text, int defaultPort) {
        String host = text;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || (close + 1 < text.length() && text.charAt(close + 1) != ':')) {
                reader.problem(path, "'" + text + "' is not host:port; write an IPv6 address as [::1]:5432");
                return Optional.empty();
            }
            host = text.substring(1, close);
            port = close + 1 < text.length() ? text.substring(close + 2) : null;
        } else if (text.indexOf(':') == text.lastIndexOf(':') && text.indexOf(':') >= 0) {
            host = text.substring(0, text.indexOf(':'));
            port = text.substring(text.indexOf(':') + 1);
        }
        if (host.isBlank()) {
            reader.problem(path, "'" + text + "' has no host name");
            return Optional.empty();
        }
        if (port == null) {
            return Optional.of(new HostPort(host, defaultPort));
        }
        try {
            int number = Integer.parseInt(port);
            if (number >= 1 && number <= 65535) {
                return Optional.of(new HostPort(host, number));
            }
        } catch (NumberFormatException e) {
            // Reported below, as for an out-of-range number.
        }
        reader.problem(path, "'" + text + "' has no valid port; expected a number from 1 to 65535 after the colon");
        return Optional.empty();
    }
}
