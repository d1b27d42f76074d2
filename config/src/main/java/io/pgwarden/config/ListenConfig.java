package io.pgwarden.config;

import java.util.Objects;

/**
 * Where the proxy accepts clients.
 *
 * @param port 0 means "any free port", which tests use to avoid clashes
 * @param maxClientConnections beyond this a new client is refused with SQLSTATE 53300
 */
public record ListenConfig(String host, int port, int maxClientConnections) {
    public ListenConfig {
        Objects.requireNonNull(host, "host");
    }
}
