package io.pgwarden.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code auth:} section: clients whose user is not under {@code users:} are looked up in PostgreSQL with
 * {@code query}, run as {@code user}.
 *
 * @param password the auth user's secret; null when {@code user} is also under {@code users:} and takes its
 *     password from there
 * @param database the configured database entry whose server answers the lookups, or null for the database each
 *     client asks for (as PgBouncer does)
 * @param cacheTtl how long an answer (found, expired, not found) is reused before PostgreSQL is asked again
 */
public record AuthConfig(String user, String password, String query, String database, Duration cacheTtl) {

    /** PostgreSQL's own rules: an expired password or a NOLOGIN role is no secret at all. */
    public static final String DEFAULT_QUERY = "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL "
            + "ELSE rolpassword END FROM pg_authid WHERE rolname = $1 AND rolcanlogin";
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(30);

    public AuthConfig {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(cacheTtl, "cacheTtl");
    }

    /** The auth user as pools know users: its password from here, or from its {@code users:} entry. */
    public UserConfig loginUser(ProxyConfig config) {
        return password != null ? new UserConfig(user, password, AuthMethod.SCRAM_SHA_256)
                : config.user(user).orElseThrow();
    }

    // Configs end up in logs; the auth user's secret must not.
    @Override
    public String toString() {
        return "AuthConfig[user=" + user + ", password=" + (password == null ? "from users" : "***") + ", query="
                + query + ", database=" + database + ", cacheTtl=" + cacheTtl + "]";
    }
}
