package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Where the admin HTTP endpoint listens, and how much a monitoring client may hold: slow or idle connections
 * must never crowd out a probe.
 *
 * @param port 0 means "any free port", which tests use to avoid clashes
 * @param metricsToken the bearer token a scrape of /metrics must send, or null for an open /metrics; /health and
 *                     /ready stay open either way, because orchestrator probes carry no credentials
 * @param requestTimeout a connection must complete a request (line, headers, body) this soon after its first byte,
 *                       or after connecting; otherwise it is closed
 * @param idleTimeout a keep-alive connection sending nothing for this long after a response is closed
 * @param maxConnections beyond this, a new connection displaces the oldest one not being answered
 * @param maxRequestBytes cap on the request line, on the headers and on the body, each
 */
public record HttpConfig(String host, int port, String metricsToken, Duration requestTimeout, Duration idleTimeout,
                         int maxConnections, int maxRequestBytes) {
    // 10 s of headers is generous for a probe or a scrape (kubelet's default probe timeout is 1 s); 60 s of
    // keep-alive outlasts Prometheus's default 15-s scrape interval, so scrapers reuse their connection.
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_CONNECTIONS = 64;
    public static final int DEFAULT_MAX_REQUEST_BYTES = 8192;
    /** Below this, an ordinary scrape's headers would not fit. */
    public static final int MIN_REQUEST_BYTES = 256;
    /** Nothing pgwarden serves reads a body; a larger cap would only let a connection hold more memory. */
    public static final int MAX_REQUEST_BYTES = 1 << 20;

    private static final HttpConfig DEFAULTS = new HttpConfig("127.0.0.1", 9187);

    public HttpConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
    }

    public HttpConfig(String host, int port) {
        this(host, port, null);
    }

    public HttpConfig(String host, int port, String metricsToken) {
        this(host, port, metricsToken, DEFAULT_REQUEST_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
                DEFAULT_MAX_REQUEST_BYTES);
    }

    /** The values used for every key an {@code admin.http:} section leaves out. */
    public static HttpConfig defaults() {
        return DEFAULTS;
    }

    // The token is a credential: config dumps and test failures must not print it.
    @Override
    public String toString() {
        return "HttpConfig[host=" + host + ", port=" + port + ", metricsToken=" + (metricsToken == null ? "none" : "***")
                + ", requestTimeout=" + requestTimeout + ", idleTimeout=" + idleTimeout + ", maxConnections="
                + maxConnections + ", maxRequestBytes=" + maxRequestBytes + "]";
    }
}
