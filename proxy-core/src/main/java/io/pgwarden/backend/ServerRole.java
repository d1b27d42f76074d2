package io.pgwarden.backend;

import io.pgwarden.config.TargetSessionAttrs;
import java.util.Map;
import java.util.Optional;

/**
 * What a server was when a backend logged in, from the two settings PostgreSQL 14 and later report to every
 * session (ParameterStatus): {@code in_hot_standby} and {@code default_transaction_read_only}. libpq judges
 * {@code target_session_attrs} by the same two.
 */
public record ServerRole(boolean hotStandby, boolean readOnly) {

    public static final String HOT_STANDBY = "in_hot_standby";
    public static final String READ_ONLY = "default_transaction_read_only";

    /** Empty when the server reports neither (before PostgreSQL 14): its role takes a query to learn. */
    public static Optional<ServerRole> of(Map<String, String> parameters) {
        String standby = parameters.get(HOT_STANDBY);
        String readOnly = parameters.get(READ_ONLY);
        if (standby == null || readOnly == null) {
            return Optional.empty();
        }
        return Optional.of(new ServerRole("on".equals(standby), "on".equals(readOnly)));
    }

    /** A session here may write: what {@code read-write} asks for. */
    public boolean acceptsWrites() {
        return !hotStandby && !readOnly;
    }

    /** Whether a backend of this server may serve a database with {@code attrs}; prefer-standby takes any. */
    public boolean matches(TargetSessionAttrs attrs) {
        return switch (attrs) {
            case ANY, PREFER_STANDBY -> true;
            case READ_WRITE -> acceptsWrites();
            case READ_ONLY -> !acceptsWrites();
            case PRIMARY -> !hotStandby;
            case STANDBY -> hotStandby;
        };
    }

    /** For SHOW SERVERS and log lines: primary, standby, or read-only primary. */
    public String describe() {
        return hotStandby ? "standby" : readOnly ? "read-only primary" : "primary";
    }

    /** Why a server of this role does not fit {@code attrs}, for the error a waiting client gets. */
    public String mismatch(TargetSessionAttrs attrs) {
        String evidence = hotStandby ? HOT_STANDBY + "=on" : readOnly ? READ_ONLY + "=on" : HOT_STANDBY + "=off";
        return "is a " + describe() + " (" + evidence + "), not " + attrs.configName();
    }
}
