package io.pgwarden.config;

import java.util.Objects;

/**
 * A database clients can ask for.
 *
 * @param name the name clients use (the YAML key)
 * @param dbname the name of the database on the server
 * @param pool the defaults section with this database's overrides applied
 */
public record DatabaseConfig(String name, String host, int port, String dbname, PoolSettings pool) {
    public DatabaseConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dbname, "dbname");
        Objects.requireNonNull(pool, "pool");
    }
}
