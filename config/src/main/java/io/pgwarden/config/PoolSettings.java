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
 */
public record PoolSettings(
        PoolMode poolMode,
        int minSize,
        int maxSize,
        Duration queryWaitTimeout,
        String serverResetQuery,
        int maxPreparedStatements,
        ServerSettings server,
        ClientSettings client) {

    private static final PoolSettings DEFAULTS = new PoolSettings(
            PoolMode.TRANSACTION, 0, 20, Duration.ofSeconds(30), "DISCARD ALL", 200,
            ServerSettings.defaults(), ClientSettings.defaults());

    public PoolSettings {
        Objects.requireNonNull(poolMode, "poolMode");
        Objects.requireNonNull(queryWaitTimeout, "queryWaitTimeout");
        Objects.requireNonNull(serverResetQuery, "serverResetQuery");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(client, "client");
    }

    /** The built-in values used for every key the configuration leaves out. */
    public static PoolSettings defaults() {
        return DEFAULTS;
    }
}
