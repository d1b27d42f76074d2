package io.pgwarden.config;

import java.util.Objects;
import java.util.Optional;

/**
 * A database clients can ask for.
 *
 * @param name the name clients use (the YAML key)
 * @param dbname the name of the database on the server
 * @param pool the defaults section with this database's overrides applied
 * @param user the role every client of this database logs in to PostgreSQL as, whoever it authenticated as; null
 *     when each client's backends log in as the client's own user
 * @param password that role's password (plaintext); null when {@code user} is null or PostgreSQL asks none of it
 */
public record DatabaseConfig(String name, String host, int port, String dbname, PoolSettings pool, String user,
                             String password) {
    public DatabaseConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dbname, "dbname");
        Objects.requireNonNull(pool, "pool");
        if (user == null && password != null) {
            throw new IllegalArgumentException("a password needs a user");
        }
    }

    /** A database whose backends log in as each client's own user. */
    public DatabaseConfig(String name, String host, int port, String dbname, PoolSettings pool) {
        this(name, host, port, dbname, pool, null, null);
    }

    /**
     * The forced backend user as a user entry: the pool logs in with it. Its {@code auth} is never used, since
     * nobody authenticates to pgwarden as it; an empty password stands for none (trust or peer in PostgreSQL).
     */
    public Optional<UserConfig> forcedUser() {
        return user == null ? Optional.empty()
                : Optional.of(new UserConfig(user, password == null ? "" : password, AuthMethod.SCRAM_SHA_256));
    }

    // Records print every component by default; configs end up in logs, so the password must not.
    @Override
    public String toString() {
        return "DatabaseConfig[name=" + name + ", host=" + host + ", port=" + port + ", dbname=" + dbname
                + ", pool=" + pool + ", user=" + user + ", password=" + (password == null ? "null" : "***") + "]";
    }
}
