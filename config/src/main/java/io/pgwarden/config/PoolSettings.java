package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Pooling behaviour for one (database, user) pair.
 *
 * @param serverResetQuery run when a backend returns to the pool; empty means none
 * @param maxPreparedStatements the most server-side prepared statements kept prepared on one backend connection
 *                              in transaction mode; beyond it the least recently used ones are closed on the server
 * @param server the {@code server:} section, merged key by key like the settings around it
 * @param client the {@code client:} section, merged key by key like the settings around it
 * @param queryTimeout a query running longer than this is cancelled on the server; zero never cancels
 * @param queryWaitNotice a client that has waited this long for a backend is sent a NOTICE saying so; zero
 *                        never sends one
 */
public record PoolSettings(
        PoolMode poolMode,
        int minSize,
        int maxSize,
        Duration queryWaitTimeout,
        String serverResetQuery,
        int maxPreparedStatements,
        ServerSettings server,
        ClientSettings client,
        Duration queryTimeout,
        Duration queryWaitNotice) {

    private static final PoolSettings DEFAULTS = new PoolSettings(
            PoolMode.TRANSACTION, 0, 20, Duration.ofSeconds(10), "DISCARD ALL", 200,
            ServerSettings.defaults(), ClientSettings.defaults(),
            Duration.ZERO, Duration.ofSeconds(5));

    public PoolSettings {
        Objects.requireNonNull(poolMode, "poolMode");
        Objects.requireNonNull(queryWaitTimeout, "queryWaitTimeout");
        Objects.requireNonNull(serverResetQuery, "serverResetQuery");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(queryTimeout, "queryTimeout");
        Objects.requireNonNull(queryWaitNotice, "queryWaitNotice");
    }

    /** The built-in values used for every key the configuration leaves out. */
    public static PoolSettings defaults() {
        return DEFAULTS;
    }
}
