package io.pgwarden.config;

import java.time.Duration;
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
 * @param maxPreparedStatementBytes bytes of named statements (transaction mode) kept for all clients
 * @param maxPreparedStatementBytesPerClient the most of those one client may hold; a Parse past it gets 53200
 * @param tls TLS for clients; unlike the rest of this section, a RELOAD applies it (and re-reads its files)
 * @param loginThrottle the slowing of addresses that fail logins; read at each login, so a RELOAD applies it
 * @param shutdownTimeout how long a graceful stop (SIGTERM, SHUTDOWN) lets clients finish their transactions;
 *        a RELOAD applies it too, as it is read when the stop begins
 * @param transport the socket implementation for clients and backends
 * @param reusePort SO_REUSEPORT on the listening socket, so a second process can bind the same port (a rolling
 *        restart on one host); only the native transports have it
 * @param peers the processes sharing the port, which forward each other cancel requests
 * @param handoverSocket the Unix socket path where a running process hands its listening socket to the next one
 *        (a rolling restart that loses no connection); null when not configured
 */
public record ListenConfig(String host, int port, int maxClientConnections, int workerThreads, int maxPendingLogins,
                           int maxPendingLoginsPerAddress, int maxPreparedStatementBytes,
                           int maxPreparedStatementBytesPerClient, ListenTls tls, LoginThrottleConfig loginThrottle,
                           Duration shutdownTimeout, ListenTransport transport, boolean reusePort, Peers peers,
                           String handoverSocket) {
    /** Kubernetes' default terminationGracePeriodSeconds, so a pod's drain fits in what the platform grants. */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
    /** A fifth of the default max_client_connections: logins take milliseconds, so these slots turn over fast. */
    public static final int DEFAULT_MAX_PENDING_LOGINS = 1000;
    /** Room for an application host opening a few hundred pool connections at once (SCRAM costs them CPU). */
    public static final int DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS = 250;
    /**
     * Tens of thousands of typical statements (a few hundred bytes each), while a 512 MB heap keeps seven eighths
     * of itself for traffic.
     */
    public static final int DEFAULT_PREPARED_BYTES = 64 << 20;
    /**
     * Above what drivers' own statement caches let one connection prepare: pgjdbc's 5 MiB counts two bytes a
     * character (about 2.5 MB of SQL), asyncpg's and psycopg's caches hold 100 statements; 16 clients at their
     * full share fill the proxy-wide bound.
     */
    public static final int DEFAULT_PREPARED_BYTES_PER_CLIENT = 4 << 20;

    public ListenConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(loginThrottle, "loginThrottle");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(peers, "peers");
    }

    public ListenConfig(String host, int port, int maxClientConnections, int workerThreads, int maxPendingLogins,
                        int maxPendingLoginsPerAddress, int maxPreparedStatementBytes,
                        int maxPreparedStatementBytesPerClient, ListenTls tls, LoginThrottleConfig loginThrottle,
                        Duration shutdownTimeout) {
        this(host, port, maxClientConnections, workerThreads, maxPendingLogins, maxPendingLoginsPerAddress,
                maxPreparedStatementBytes, maxPreparedStatementBytesPerClient, tls, loginThrottle, shutdownTimeout,
                ListenTransport.AUTO, false, Peers.none(), null);
    }

    public ListenConfig(String host, int port, int maxClientConnections, int workerThreads, int maxPendingLogins,
                        int maxPendingLoginsPerAddress, int maxPreparedStatementBytes,
                        int maxPreparedStatementBytesPerClient, ListenTls tls) {
        this(host, port, maxClientConnections, workerThreads, maxPendingLogins, maxPendingLoginsPerAddress,
                maxPreparedStatementBytes, maxPreparedStatementBytesPerClient, tls, LoginThrottleConfig.defaults(),
                DEFAULT_SHUTDOWN_TIMEOUT);
    }

    public ListenConfig(String host, int port, int maxClientConnections, int workerThreads, int maxPendingLogins,
                        int maxPendingLoginsPerAddress, int maxPreparedStatementBytes,
                        int maxPreparedStatementBytesPerClient) {
        this(host, port, maxClientConnections, workerThreads, maxPendingLogins, maxPendingLoginsPerAddress,
                maxPreparedStatementBytes, maxPreparedStatementBytesPerClient, ListenTls.disabled());
    }

    /** The same listener with other TLS settings: a reload compares the rest, which needs a restart. */
    public ListenConfig withTls(ListenTls tls) {
        return new ListenConfig(host, port, maxClientConnections, workerThreads, maxPendingLogins,
                maxPendingLoginsPerAddress, maxPreparedStatementBytes, maxPreparedStatementBytesPerClient, tls,
                loginThrottle, shutdownTimeout, transport, reusePort, peers, handoverSocket);
    }

    /** The same listener with another throttle, which a reload applies: comparing the rest tells what needs a restart. */
    public ListenConfig withLoginThrottle(LoginThrottleConfig loginThrottle) {
        return new ListenConfig(host, port, maxClientConnections, workerThreads, maxPendingLogins,
                maxPendingLoginsPerAddress, maxPreparedStatementBytes, maxPreparedStatementBytesPerClient, tls,
                loginThrottle, shutdownTimeout, transport, reusePort, peers, handoverSocket);
    }

    /** The same listener with another shutdown timeout, which a reload applies (it needs no new socket). */
    public ListenConfig withShutdownTimeout(Duration timeout) {
        return new ListenConfig(host, port, maxClientConnections, workerThreads, maxPendingLogins,
                maxPendingLoginsPerAddress, maxPreparedStatementBytes, maxPreparedStatementBytesPerClient, tls,
                loginThrottle, timeout, transport, reusePort, peers, handoverSocket);
    }

    public ListenConfig(String host, int port, int maxClientConnections, int workerThreads) {
        this(host, port, maxClientConnections, workerThreads, DEFAULT_MAX_PENDING_LOGINS,
                DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS, DEFAULT_PREPARED_BYTES, DEFAULT_PREPARED_BYTES_PER_CLIENT);
    }

    public ListenConfig(String host, int port, int maxClientConnections) {
        this(host, port, maxClientConnections, 0);
    }

    /** The thread count to start, {@link #workerThreads} with "auto" resolved for {@code cpus} processors. */
    public int workerThreads(int cpus) {
        return workerThreads > 0 ? workerThreads : Math.max(1, cpus / 2);
    }
}
