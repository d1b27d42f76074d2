package io.pgwarden.auth;

import io.netty.channel.EventLoop;
import io.pgwarden.config.AuthConfig;
import io.pgwarden.config.AuthMethod;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.config.SecretKind;
import io.pgwarden.config.UserConfig;
import io.pgwarden.log.LogValues;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolRegistry;
import io.pgwarden.protocol.ErrorResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Users not under {@code users:}, looked up in PostgreSQL with auth.query (PgBouncer's auth_user/auth_query) and
 * cached for auth.cache_ttl. Concurrent logins of one user share one query; while PostgreSQL cannot be reached,
 * an answer past its TTL stands in, so clients of known users keep logging in during a restart.
 */
public final class UserLookup {

    private static final Logger log = LoggerFactory.getLogger(UserLookup.class);
    private static final String NOT_FOUND = "role not found, or not allowed to log in";
    private static final String NO_SECRET = "role has no password, or its password expired (VALID UNTIL)";

    private final PoolRegistry pools;
    private final ProxyMetrics metrics;
    private final LookupCache cache;

    public UserLookup(PoolRegistry pools, ProxyMetrics metrics) {
        this(pools, metrics, new LookupCache());
    }

    UserLookup(PoolRegistry pools, ProxyMetrics metrics, LookupCache cache) {
        this.pools = pools;
        this.metrics = metrics;
        this.cache = cache;
    }

    /** Whether {@code user} is to be looked up: {@code auth:} is configured and the user is not under users. */
    public static boolean applies(ProxyConfig config, String user) {
        return config.auth() != null && config.user(user).isEmpty();
    }

    /**
     * Never completes exceptionally.
     *
     * @param database the database the client asks for: its server answers unless auth.database names another
     * @param loop where the wait for a backend runs (the client's)
     */
    public CompletableFuture<LookupOutcome> find(ProxyConfig config, String database, String user, EventLoop loop) {
        AuthConfig auth = config.auth();
        String entryName = auth.database() != null ? auth.database() : database;
        boolean auto = config.database(entryName).isEmpty() && config.anyDatabase() != null;
        DatabaseConfig entry = auto ? config.anyDatabase().forName(entryName) : config.database(entryName).orElse(null);
        if (entry == null) {
            // The client is refused before it learns whether the database exists, as PostgreSQL does.
            return CompletableFuture.completedFuture(
                    LookupOutcome.none("no database \"" + entryName + "\" configured to look the user up in"));
        }
        String key = LookupCache.key(entry.name(), user);
        long now = System.nanoTime();
        LookupCache.Entry cached = cache.get(key);
        if (cached != null && cached.freshAt(now, auth.cacheTtl().toNanos())) {
            metrics.authLookup("hit");
            return CompletableFuture.completedFuture(cached.outcome());
        }
        CompletableFuture<LookupOutcome> mine = new CompletableFuture<>();
        CompletableFuture<LookupOutcome> running = cache.joinOrRegister(key, mine);
        if (running != null) {
            metrics.authLookup("hit");
            return running;
        }
        // A database the "*" entry serves is asked through a pool of that entry, bounded and swept like the others.
        BackendPool pool = auto ? pools.autoPoolFor(entry, auth.loginUser(config)).orElse(null)
                : pools.poolFor(entry, auth.loginUser(config));
        if (pool == null) {
            cache.finished(key);
            LookupOutcome full = LookupOutcome.failed(ErrorResponse.fatal("53400", "pgwarden could not look up the "
                    + "user in PostgreSQL: the \"*\" entry has " + config.anyDatabase().maxPools()
                    + " pools already (max_auto_pools)"), false);
            mine.complete(full);
            return mine;
        }
        metrics.authLookup("miss");
        AuthQuery.run(pool, loop, auth.query(), user,
                        entry.pool().queryWaitTimeout(), cached != null)
                .handle((answer, error) -> error == null ? outcomeOf(answer, user) : failed(entry, auth, error))
                .thenAccept(outcome -> {
                    LookupOutcome given = outcome;
                    if (outcome.answered()) {
                        cache.put(key, outcome, System.nanoTime());
                    } else {
                        metrics.authLookup("error");
                        LookupCache.Entry standIn = cache.get(key);
                        if (outcome.unreachable() && standIn != null) {
                            if (cache.firstStaleUse(key)) {
                                log.warn("event=auth_lookup_stale database={} user={} detail={}",
                                        LogValues.quote(entry.name()), LogValues.quote(user),
                                        LogValues.quote("PostgreSQL cannot be reached; using the answer cached "
                                                + (System.nanoTime() - standIn.storedAtNanos()) / 1_000_000
                                                + " ms ago until it can"));
                            }
                            given = standIn.outcome();
                        }
                    }
                    cache.finished(key);
                    mine.complete(given);
                });
        return mine;
    }

    private static LookupOutcome outcomeOf(AuthQuery.Answer answer, String user) {
        if (answer.error() != null) {
            ErrorResponse pg = answer.error();
            log.warn("event=auth_lookup_failed user={} reason={}", LogValues.quote(user),
                    LogValues.quote("auth.query failed: " + pg.message()));
            return LookupOutcome.failed(ErrorResponse.fatal(pg.sqlstate().startsWith("28") ? "08001" : pg.sqlstate(),
                    "pgwarden could not look up the user in PostgreSQL: auth.query failed: " + pg.message())
                    .withHint("check auth.query and what auth.user may read"), false);
        }
        List<String> row = answer.firstRow();
        // A function returning one record (PgBouncer's documented user_lookup) answers an unknown name with NULLs.
        if (row == null || (row.size() >= 2 && row.get(0) == null && row.get(1) == null)) {
            return LookupOutcome.none(NOT_FOUND);
        }
        if (row.size() < 2) {
            return LookupOutcome.failed(ErrorResponse.fatal("42601", "pgwarden could not look up the user in "
                    + "PostgreSQL: auth.query returned " + row.size() + " column(s); it must return two, the role "
                    + "name and its secret"), false);
        }
        String secret = row.get(1);
        if (secret == null || secret.isEmpty()) {
            return LookupOutcome.none(NO_SECRET);
        }
        String name = row.get(0) != null ? row.get(0) : user;
        return LookupOutcome.found(new UserConfig(name, secret, methodFor(secret)));
    }

    /** PostgreSQL's own rule: the method follows the kind of secret it stores. */
    static AuthMethod methodFor(String secret) {
        return SecretKind.of(secret) == SecretKind.MD5_HASH ? AuthMethod.MD5 : AuthMethod.SCRAM_SHA_256;
    }

    private static LookupOutcome failed(DatabaseConfig entry, AuthConfig auth, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(cause instanceof LookupFailure failure)) {
            log.warn("event=auth_lookup_failed database={}", LogValues.quote(entry.name()), cause);
            return LookupOutcome.failed(ErrorResponse.fatal("XX000", "pgwarden could not look up the user in "
                    + "PostgreSQL: internal error"), true);
        }
        String detail = failure.lastConnectError() != null
                ? (failure.unreachable() ? "last attempt to connect to PostgreSQL failed: " : "PostgreSQL said: ")
                        + failure.lastConnectError()
                : null;
        log.warn("event=auth_lookup_failed database={} auth_user={} reason={}", LogValues.quote(entry.name()),
                LogValues.quote(auth.user()), LogValues.quote(failure.getMessage()
                        + (detail != null ? "; " + detail : "")));
        return LookupOutcome.failed(ErrorResponse.fatal("08001", "pgwarden could not look up the user in "
                        + "PostgreSQL (database \"" + entry.name() + "\", auth.user \"" + auth.user() + "\"): "
                        + failure.getMessage())
                .withDetail(detail)
                .withHint(failure.unreachable() ? "PostgreSQL may be down or restarting; try again shortly"
                        : "check auth.user and auth.password"), failure.unreachable());
    }
}
