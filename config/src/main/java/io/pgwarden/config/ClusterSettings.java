package io.pgwarden.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where a database's backends go: one host, or several of which {@code targetSessionAttrs} picks one.
 *
 * @param hosts in the order they are tried, as libpq tries them; never empty, no duplicates
 * @param failoverTimeout how long clients are held, waiting for a backend, while no host matches
 *     {@code targetSessionAttrs} (PostgreSQL restarting, a standby being promoted); apart from query_wait_timeout,
 *     which applies while a host is up and the pool merely full
 */
public record ClusterSettings(List<HostPort> hosts, TargetSessionAttrs targetSessionAttrs,
                              Duration failoverTimeout) {
    public static final Duration DEFAULT_FAILOVER_TIMEOUT = Duration.ofSeconds(30);

    public ClusterSettings {
        hosts = List.copyOf(hosts);
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("at least one host");
        }
        Objects.requireNonNull(targetSessionAttrs, "targetSessionAttrs");
        Objects.requireNonNull(failoverTimeout, "failoverTimeout");
    }

    /** One server, any role: what a single {@code host}/{@code port} entry always meant. */
    public static ClusterSettings single(String host, int port) {
        return new ClusterSettings(List.of(new HostPort(host, port)), TargetSessionAttrs.ANY,
                DEFAULT_FAILOVER_TIMEOUT);
    }

    public HostPort first() {
        return hosts.get(0);
    }

    public boolean severalHosts() {
        return hosts.size() > 1;
    }
}
