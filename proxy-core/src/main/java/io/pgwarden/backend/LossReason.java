package io.pgwarden.backend;

import io.pgwarden.protocol.ErrorResponse;

/**
 * Why a backend connection ended, as an operator would ask it. Logged once per loss and counted, so the
 * metrics and the admin console can say more than PgBouncer's "server conn crashed?".
 */
public enum LossReason {
    TERMINATED_BY_ADMINISTRATOR("terminated by administrator (57P01)"),
    IDLE_SESSION_TIMEOUT("idle session timeout (57P05)"),
    IDLE_IN_TRANSACTION_TIMEOUT("idle-in-transaction timeout (25P03)"),
    SERVER_SHUTDOWN("server shutdown or crash"),
    CONNECTION_RESET("connection reset"),
    KEEPALIVE_TIMEOUT("keepalive or user timeout"),
    HEALTH_CHECK_FAILED("health check failed"),
    LIFETIME_EXPIRED("lifetime expired"),
    IDLE_TIMEOUT("idle timeout"),
    LOGIN_FAILED("login failed"),
    CLOSED_BY_PGWARDEN("closed by pgwarden");

    private final String description;

    LossReason(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** The class of a FATAL error PostgreSQL sent before closing. */
    public static LossReason fromFatal(ErrorResponse fatal) {
        String sqlstate = fatal.sqlstate() == null ? "" : fatal.sqlstate();
        return switch (sqlstate) {
            case "57P01" -> TERMINATED_BY_ADMINISTRATOR;
            case "57P05" -> IDLE_SESSION_TIMEOUT;
            case "25P03" -> IDLE_IN_TRANSACTION_TIMEOUT;
            default -> SERVER_SHUTDOWN;
        };
    }

    /** The class of a socket that closed or failed without a word from PostgreSQL. */
    public static LossReason fromSocket(Throwable cause) {
        String message = cause == null || cause.getMessage() == null ? "" : cause.getMessage().toLowerCase();
        if (message.contains("timed out")) {
            return KEEPALIVE_TIMEOUT;
        }
        if (message.contains("reset")) {
            return CONNECTION_RESET;
        }
        return SERVER_SHUTDOWN;
    }
}
