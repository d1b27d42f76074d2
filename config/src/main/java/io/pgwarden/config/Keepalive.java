package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * TCP keepalive for one side of the proxy; it notices peers that vanished without closing the connection.
 *
 * @param idle silence before the first probe
 * @param interval time between unanswered probes
 * @param count unanswered probes before the connection is dropped
 */
public record Keepalive(Duration idle, Duration interval, int count) {
    private static final Keepalive DEFAULTS = new Keepalive(Duration.ofSeconds(30), Duration.ofSeconds(10), 5);

    public Keepalive {
        Objects.requireNonNull(idle, "idle");
        Objects.requireNonNull(interval, "interval");
    }

    /** The built-in values used for every key the configuration leaves out. */
    public static Keepalive defaults() {
        return DEFAULTS;
    }
}
