package io.pgwarden.config;

import java.util.Objects;

/**
 * Where the proxy accepts clients.
 *
 * @param port 0 means "any free port", which tests use to avoid clashes
 * @param maxClientConnections beyond this a new client is refused with SQLSTATE 53300
 * @param workerThreads event-loop threads serving clients and backends; 0 picks one per two CPUs, at least one
 */
public record ListenConfig(String host, int port, int maxClientConnections, int workerThreads) {
    public ListenConfig {
        Objects.requireNonNull(host, "host");
    }

    public ListenConfig(String host, int port, int maxClientConnections) {
        this(host, port, maxClientConnections, 0);
    }

    /** The thread count to start, {@link #workerThreads} with "auto" resolved for {@code cpus} processors. */
    public int workerThreads(int cpus) {
        return workerThreads > 0 ? workerThreads : Math.max(1, cpus / 2);
    }
}
