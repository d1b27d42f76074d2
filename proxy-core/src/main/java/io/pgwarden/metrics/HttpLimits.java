package io.pgwarden.metrics;

import java.time.Duration;
import java.util.Objects;

/**
 * How much a monitoring HTTP client may hold: slow or idle connections must never crowd out a probe.
 *
 * @param requestTimeout a connection must complete a request (line, headers, body) this soon after its first byte,
 *                       or after connecting; otherwise it is closed
 * @param idleTimeout a keep-alive connection sending nothing for this long after a response is closed
 * @param maxConnections beyond this, a new connection displaces the oldest one not being answered
 * @param maxRequestBytes cap on the request line, on the headers and on the body, each
 */
public record HttpLimits(Duration requestTimeout, Duration idleTimeout, int maxConnections, int maxRequestBytes) {

    // 10 s of headers is generous for a probe or a scrape (kubelet's default probe timeout is 1 s); 60 s of
    // keep-alive outlasts Prometheus's default 15-s scrape interval, so scrapers reuse their connection.
    private static final HttpLimits DEFAULTS = new HttpLimits(Duration.ofSeconds(10), Duration.ofSeconds(60), 64, 8192);

    public HttpLimits {
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (requestTimeout.isNegative() || requestTimeout.isZero() || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
        if (maxConnections < 1 || maxRequestBytes < 256) {
            throw new IllegalArgumentException("maxConnections >= 1 and maxRequestBytes >= 256 required");
        }
    }

    public static HttpLimits defaults() {
        return DEFAULTS;
    }
}
