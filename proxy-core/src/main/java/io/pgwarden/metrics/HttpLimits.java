package io.pgwarden.metrics;

import io.pgwarden.config.HttpConfig;
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

    private static final HttpLimits DEFAULTS = of(HttpConfig.defaults());

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

    /** The limits {@code admin.http} sets (its defaults explain themselves in {@link HttpConfig}). */
    public static HttpLimits of(HttpConfig config) {
        return new HttpLimits(config.requestTimeout(), config.idleTimeout(), config.maxConnections(),
                config.maxRequestBytes());
    }

    public static HttpLimits defaults() {
        return DEFAULTS;
    }
}
