package io.pgwarden.config;

import java.util.Objects;

/**
 * Where the admin HTTP endpoint listens.
 *
 * @param port 0 means "any free port", which tests use to avoid clashes
 */
public record HttpConfig(String host, int port) {
    private static final HttpConfig DEFAULTS = new HttpConfig("127.0.0.1", 9187);

    public HttpConfig {
        Objects.requireNonNull(host, "host");
    }

    /** The values used for every key an {@code admin.http:} section leaves out. */
    public static HttpConfig defaults() {
        return DEFAULTS;
    }
}
