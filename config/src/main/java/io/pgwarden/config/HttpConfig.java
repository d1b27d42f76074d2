package io.pgwarden.config;

import java.util.Objects;

/**
 * Where the admin HTTP endpoint listens.
 *
 * @param port 0 means "any free port", which tests use to avoid clashes
 * @param metricsToken the bearer token a scrape of /metrics must send, or null for an open /metrics; /health and
 *                     /ready stay open either way, because orchestrator probes carry no credentials
 */
public record HttpConfig(String host, int port, String metricsToken) {
    private static final HttpConfig DEFAULTS = new HttpConfig("127.0.0.1", 9187);

    public HttpConfig {
        Objects.requireNonNull(host, "host");
    }

    public HttpConfig(String host, int port) {
        this(host, port, null);
    }

    /** The values used for every key an {@code admin.http:} section leaves out. */
    public static HttpConfig defaults() {
        return DEFAULTS;
    }

    // The token is a credential: config dumps and test failures must not print it.
    @Override
    public String toString() {
        return "HttpConfig[host=" + host + ", port=" + port + ", metricsToken=" + (metricsToken == null ? "none" : "***")
                + "]";
    }
}
