package io.pgwarden.config;

/**
 * listen.transport: the socket implementation for clients and backends alike. {@link #AUTO} takes the best one the
 * kernel and the JVM allow; a named one that cannot load stops the start instead of quietly running on another.
 */
public enum ListenTransport {
    AUTO("auto"),
    IO_URING("io_uring"),
    EPOLL("epoll"),
    NIO("nio");

    private final String yamlName;

    ListenTransport(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
