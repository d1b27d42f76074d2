package io.pgwarden.session;

import java.util.Locale;

/**
 * Why a client connection ended. One reason feeds the close's log line, the
 * {@code pgwarden_client_closes_total{reason}} counter and, for the ones an operator should hear of, SHOW EVENTS,
 * as {@link io.pgwarden.backend.LossReason} does for backends.
 */
public enum ClientCloseReason {
    TERMINATED("the client sent Terminate", null),
    DISCONNECTED("the client disconnected", null),
    CANCEL_REQUEST("a cancel request was handled", null),
    PROTOCOL_VIOLATION("malformed or unexpected message", "client_refused"),
    LOGIN_REFUSED("login refused", null),
    AUTHENTICATION_FAILED("authentication failed", "client_refused"),
    LOGIN_TIMEOUT("client.login_timeout reached", "client_killed"),
    SERVER_LOGIN_FAILED("no server connection for the login", "client_refused"),
    IDLE_TIMEOUT("client.idle_timeout reached", "client_killed"),
    IDLE_IN_TRANSACTION_TIMEOUT("client.idle_in_transaction_timeout reached", "client_killed"),
    SERVER_LOST("server connection lost and the session could not be restored", "client_killed"),
    /** The backend's own close reason is in its server_close line and, when it was a loss, in SHOW EVENTS. */
    REPLICATION_SERVER_CLOSED("PostgreSQL closed the replication connection", null),
    ADMIN_KILL("killed from the admin console", "client_killed"),
    /** Closed by a graceful stop: between transactions, or at its deadline (see {@link Drain}). */
    SHUTDOWN("pgwarden is shutting down", null);

    private final String description;
    private final String eventKind;

    ClientCloseReason(String description, String eventKind) {
        this.description = description;
        this.eventKind = eventKind;
    }

    /** The metric label and the log's reason_class. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    /** The kind SHOW EVENTS records it under, or null: ordinary disconnects would crowd out everything else. */
    public String eventKind() {
        return eventKind;
    }
}
