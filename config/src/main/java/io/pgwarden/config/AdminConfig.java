package io.pgwarden.config;

import java.util.List;
import java.util.Objects;

/**
 * The admin console and endpoint.
 *
 * @param database the database name clients ask for to reach the admin console; never one of the configured
 *                 databases
 * @param users the users (each configured under {@code users:}) allowed into the admin console; unmodifiable
 * @param http the HTTP endpoint, or null when the file has no {@code admin.http} key (HTTP disabled)
 */
public record AdminConfig(String database, List<String> users, HttpConfig http) {
    private static final AdminConfig DEFAULTS = new AdminConfig("pgwarden", List.of(), null);

    public AdminConfig {
        Objects.requireNonNull(database, "database");
        users = List.copyOf(Objects.requireNonNull(users, "users"));
    }

    /** Used when the file has no {@code admin:} section: the console named pgwarden, nobody allowed, no HTTP. */
    public static AdminConfig defaults() {
        return DEFAULTS;
    }

    /** Whether the admin HTTP endpoint is enabled. */
    public boolean httpEnabled() {
        return http != null;
    }
}
