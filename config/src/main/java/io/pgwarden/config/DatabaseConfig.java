package io.pgwarden.config;

import java.util.Objects;
import java.util.Optional;

/**
 * A database clients can ask for.
 *
 * @param name the name clients use (the YAML key)
 * @param cluster the host or hosts its backends log in to, and which of them is wanted
 * @param dbname the name of the database on the server
 * @param pool the defaults section with this database's overrides applied
 * @param user the role every client of this database logs in to PostgreSQL as, whoever it authenticated as; null
 *     when each client's backends log in as the client's own user
 * @param password that role's password (plaintext); null when {@code user} is null or PostgreSQL asks none of it
 */
public record DatabaseConfig(String name, ClusterSettings cluster, String dbname, PoolSettings pool, String user,
                             String password) {
    public DatabaseConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(dbname, "dbname");
        Objects.requireNonNull(pool, "pool");
        if (user == null && password != null) {
            throw new IllegalArgumentException("a password needs a user");
        }
    }

    /** A database on one server. */
    public DatabaseConfig(String name, String host, int port, String dbname, PoolSettings pool, String user,
                          String password) {
        this(name, ClusterSettings.single(host, port), dbname, pool, user, password);
    }

    /** A database on one server whose backends log in as each client's own user. */
    public DatabaseConfig(String name, String host, int port, String dbname, PoolSettings pool) {
        this(name, host, port, dbname, pool, null, null);
    }

    /** The first host listed: the only one of a single-server entry. */
    public String host() {
        return cluster.first().host();
    }

    /** The first host's port. */
    public int port() {
        return cluster.first().port();
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
        return "DatabaseConfig[name=" + name + ", cluster=" + cluster + ", dbname=" + dbname
                + ", pool=" + pool + ", user=" + user + ", password=" + (password == null ? "null" : "***") + "]";
    }
}
