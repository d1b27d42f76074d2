package io.pgwarden.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole, validated configuration. Maps are unmodifiable and keep the order of the file.
 *
 * @param admin the {@code admin:} section; {@link AdminConfig#defaults()} when the file has none
 * @param auth the {@code auth:} section (users looked up in PostgreSQL), or null when the file has none
 * @param anyDatabase the {@code databases."*"} entry, null when the file has none (it is not in {@code databases})
 * @param access the {@code access:} rules in file order; empty when the file has none, and then each user's own
 *               {@code auth} applies to every connection
 */
public record ProxyConfig(
        ListenConfig listen,
        PoolSettings defaults,
        Map<String, DatabaseConfig> databases,
        Map<String, UserConfig> users,
        AdminConfig admin,
        AuthConfig auth,
        AnyDatabaseConfig anyDatabase,
        List<AccessRule> access) {

    public ProxyConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(defaults, "defaults");
        databases = orderedCopy(databases, "databases");
        users = orderedCopy(users, "users");
        Objects.requireNonNull(admin, "admin");
        access = List.copyOf(access);
    }

    /**
     * Without {@code auth:}, {@code databases."*"} and {@code access:}: only the users and databases listed may
     * log in, each user by its own {@code auth}.
     */
    public ProxyConfig(ListenConfig listen, PoolSettings defaults, Map<String, DatabaseConfig> databases,
                       Map<String, UserConfig> users, AdminConfig admin) {
        this(listen, defaults, databases, users, admin, null, null, List.of());
    }

    /** A named entry only; see {@link #anyDatabase}. */
    public Optional<DatabaseConfig> database(String name) {
        return Optional.ofNullable(databases.get(name));
    }

    public Optional<UserConfig> user(String name) {
        return Optional.ofNullable(users.get(name));
    }

    // Map.copyOf would lose the file order, which operators expect in listings and logs.
    private static <V> Map<String, V> orderedCopy(Map<String, V> map, String what) {
        Objects.requireNonNull(map, what);
        Map<String, V> copy = new LinkedHashMap<>();
        map.forEach((key, value) -> copy.put(
                Objects.requireNonNull(key, what + " key"), Objects.requireNonNull(value, what + " value")));
        return Collections.unmodifiableMap(copy);
    }
}
