package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How the proxy treats the connections its clients open. Zero switches the idle timeouts and the warning off.
 *
 * @param idleTimeout a client idle outside a transaction for longer than this is disconnected; zero never does
 * @param idleInTransactionTimeout a client idle inside a transaction for longer than this is disconnected (its
 *                                 transaction rolled back); zero never does
 * @param idleInTransactionWarning a client idle inside a transaction for this long draws a warning, since it
 *                                 holds a backend (and its locks) meanwhile; zero never warns
 * @param loginTimeout a client that has not finished startup and authentication within this is disconnected
 * @param leakAfter a client idle inside a transaction for this long is listed by the admin console's SHOW LEAKS;
 *                  zero lists every one. Shorter than the warning: looking costs nothing, a log line each time does
 */
public record ClientSettings(
        Keepalive keepalive,
        Duration idleTimeout,
        Duration idleInTransactionTimeout,
        Duration idleInTransactionWarning,
        Duration loginTimeout,
        Duration leakAfter) {

    private static final ClientSettings DEFAULTS = new ClientSettings(Keepalive.defaults(), Duration.ZERO,
            Duration.ZERO, Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(2));

    public ClientSettings {
        Objects.requireNonNull(keepalive, "keepalive");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(idleInTransactionTimeout, "idleInTransactionTimeout");
        Objects.requireNonNull(idleInTransactionWarning, "idleInTransactionWarning");
        Objects.requireNonNull(loginTimeout, "loginTimeout");
        Objects.requireNonNull(leakAfter, "leakAfter");
    }

    /** The built-in values used for every key the configuration leaves out. */
    public static ClientSettings defaults() {
        return DEFAULTS;
    }
}
