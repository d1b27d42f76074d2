package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code databases."*"} entry: serves any database name a client asks for that no named entry has, with a pool
 * made on first use (dbname = the name asked for) and closed after {@code idleTimeout} without clients.
 *
 * @param template host, port, pool settings and forced user of every such database; its name and dbname are "*"
 * @param idleTimeout how long an auto database's pool stays without clients before it is closed and forgotten
 * @param maxPools how many pools the entry may have at once (one per database and backend user): a client cycling
 *     through random names must not grow memory without limit
 */
public record AnyDatabaseConfig(DatabaseConfig template, Duration idleTimeout, int maxPools) {
    public static final String KEY = "*";
    /** As PgBouncer's autodb_idle_timeout. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
    public static final int DEFAULT_MAX_POOLS = 100;

    public AnyDatabaseConfig {
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (maxPools < 1) {
            throw new IllegalArgumentException("maxPools must be at least 1");
        }
    }

    /** The entry for one database name a client asked for. */
    public DatabaseConfig forName(String name) {
        return new DatabaseConfig(name, template.cluster(), name, template.pool(), template.user(),
                template.password());
    }
}
