package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How the proxy treats its connections to PostgreSQL. Several durations use zero to switch a feature off,
 * which is why they are read without the "greater than zero" rule that applies to timeouts.
 *
 * @param tcpUserTimeout how long sent data may stay unacknowledged before the connection is dropped; zero is off
 * @param checkQuery sent to test a backend; empty sends an empty query, which is the cheapest round trip
 * @param checkDelay a backend idle for longer than this is checked before being handed out; zero checks every time
 * @param checkTimeout a check that takes longer than this marks the backend broken
 * @param healthCheckInterval how often idle backends are checked in the background
 * @param lifetime a backend older than this is closed when it next returns to the pool; zero is unlimited
 * @param idleTimeout a backend idle for longer than this is closed; zero never closes one for being idle
 * @param connectTimeout TCP connect plus login to PostgreSQL
 * @param replayCheckAfter a backend idle for longer than this gets a Sync ahead of a transaction's first request,
 *        which proves (or not) that a request lost with it never ran; zero sends one every time
 * @param cleartextPassword when the configured password may be sent as asked by a server requesting it in clear
 *        text; by default only over TLS with a verified certificate, as a server may ask over plain text or be an
 *        impostor
 * @param allowMd5Password whether a server may ask for md5; true by default, as libpq's {@code require_auth} allows it
 * @param tls whether and how the connection is encrypted and the server's certificate checked
 */
public record ServerSettings(
        Keepalive keepalive,
        Duration tcpUserTimeout,
        String checkQuery,
        Duration checkDelay,
        Duration checkTimeout,
        Duration healthCheckInterval,
        Duration lifetime,
        Duration idleTimeout,
        Duration connectTimeout,
        Duration replayCheckAfter,
        CleartextPasswordRule cleartextPassword,
        boolean allowMd5Password,
        ServerTlsSettings tls) {

    private static final ServerSettings DEFAULTS = new ServerSettings(Keepalive.defaults(), Duration.ZERO,
            "SELECT 1", Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofHours(1),
            Duration.ofMinutes(10), Duration.ofSeconds(5), Duration.ofMillis(100),
            CleartextPasswordRule.OVER_VERIFIED_TLS, true, ServerTlsSettings.defaults());

    public ServerSettings {
        Objects.requireNonNull(keepalive, "keepalive");
        Objects.requireNonNull(tcpUserTimeout, "tcpUserTimeout");
        Objects.requireNonNull(checkQuery, "checkQuery");
        Objects.requireNonNull(checkDelay, "checkDelay");
        Objects.requireNonNull(checkTimeout, "checkTimeout");
        Objects.requireNonNull(healthCheckInterval, "healthCheckInterval");
        Objects.requireNonNull(lifetime, "lifetime");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(replayCheckAfter, "replayCheckAfter");
        Objects.requireNonNull(cleartextPassword, "cleartextPassword");
        Objects.requireNonNull(tls, "tls");
    }

    /** The settings with TLS at its default, for callers that do not choose it. */
    public ServerSettings(Keepalive keepalive, Duration tcpUserTimeout, String checkQuery, Duration checkDelay,
                          Duration checkTimeout, Duration healthCheckInterval, Duration lifetime, Duration idleTimeout,
                          Duration connectTimeout, Duration replayCheckAfter, CleartextPasswordRule cleartextPassword,
                          boolean allowMd5Password) {
        this(keepalive, tcpUserTimeout, checkQuery, checkDelay, checkTimeout, healthCheckInterval, lifetime,
                idleTimeout, connectTimeout, replayCheckAfter, cleartextPassword, allowMd5Password,
                ServerTlsSettings.defaults());
    }

    /** The settings with the password methods and TLS at their defaults, for callers that do not choose them. */
    public ServerSettings(Keepalive keepalive, Duration tcpUserTimeout, String checkQuery, Duration checkDelay,
                          Duration checkTimeout, Duration healthCheckInterval, Duration lifetime, Duration idleTimeout,
                          Duration connectTimeout, Duration replayCheckAfter) {
        this(keepalive, tcpUserTimeout, checkQuery, checkDelay, checkTimeout, healthCheckInterval, lifetime,
                idleTimeout, connectTimeout, replayCheckAfter, CleartextPasswordRule.OVER_VERIFIED_TLS, true);
    }

    /** The built-in values used for every key the configuration leaves out. */
    public static ServerSettings defaults() {
        return DEFAULTS;
    }
}
