package io.pgwarden.config;

import java.util.Objects;

/**
 * Where the proxy accepts clients.
 *
 * @param port 0 means "any free port", which tests use to avoid clashes
 * @param maxClientConnections beyond this a new client is refused with SQLSTATE 53300
 * @param workerThreads event-loop threads serving clients and backends; 0 picks one per two CPUs, at least one
 * @param maxPendingLogins connections that have not completed login (anyone can open one) beyond this are refused
 *        with 53300 at once, so that silent sockets cannot take the capacity meant for logged-in clients
 * @param maxPendingLoginsPerAddress the same, per source address: one host cannot take all of the above
 * @param tls TLS for clients; unlike the rest of this section, a RELOAD applies it (and re-reads its files)
 */
public record ListenConfig(String host, int port, int maxClientConnections, int workerThreads, int maxPendingLogins,
                           int maxPendingLoginsPerAddress, ListenTls tls) {
    /** A fifth of the default max_client_connections: logins take milliseconds, so these slots turn over fast. */
    public static final int DEFAULT_MAX_PENDING_LOGINS = 1000;
    /** Room for an application host opening a few hundred pool connections at once (SCRAM costs them CPU). */
    public static final int DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS = 250;

    public ListenConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tls, "tls");
    }

    public ListenConfig(String host, int port, int maxClientConnections, int workerThreads, int maxPendingLogins,
                        int maxPendingLoginsPerAddress) {
        this(host, port, maxClientConnections, workerThreads, maxPendingLogins, maxPendingLoginsPerAddress,
                ListenTls.disabled());
    }

    /** The same listener with other TLS settings: a reload compares the rest, which needs a restart. */
    public ListenConfig withTls(ListenTls tls) {
        return new ListenConfig(host, port, maxClientConnections, workerThreads, maxPendingLogins,
                maxPendingLoginsPerAddress, tls);
    }

    public ListenConfig(String host, int port, int maxClientConnections, int workerThreads) {
        this(host, port, maxClientConnections, workerThreads, DEFAULT_MAX_PENDING_LOGINS,
                DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS);
    }

    public ListenConfig(String host, int port, int maxClientConnections) {
        this(host, port, maxClientConnections, 0);
    }

    /** The thread count to start, {@link #workerThreads} with "auto" resolved for {@code cpus} processors. */
    public int workerThreads(int cpus) {
        return workerThreads > 0 ? workerThreads : Math.max(1, cpus / 2);
    }
}
