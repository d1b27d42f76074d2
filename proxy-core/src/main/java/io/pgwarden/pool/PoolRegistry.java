package io.pgwarden.pool;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendOpener;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.config.UserConfig;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Every pool of the process, created on first use of a (database, user) pair. */
public final class PoolRegistry {

    private final BackendOpener opener;
    private final EventLoopGroup loops;
    private final EventLog events;
    private final ProxyMetrics metrics;
    private static final Logger log = LoggerFactory.getLogger(PoolRegistry.class);

    private final ConcurrentMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private final Queue<ScheduledFuture<?>> janitors = new ConcurrentLinkedQueue<>();

    public PoolRegistry(BackendOpener opener, EventLoopGroup loops, EventLog events, ProxyMetrics metrics) {
        this.opener = opener;
        this.loops = loops;
        this.events = events;
        this.metrics = metrics;
    }

    public BackendPool poolFor(DatabaseConfig database, UserConfig user) {
        PoolKey key = new PoolKey(database.name(), user.name());
        BackendPool existing = pools.computeIfAbsent(key, k -> {
            BackendPool pool = new BackendPool(k, database.pool(), opener, targetOf(database, user), loops, events,
                    metrics);
            janitors.add(scheduleJanitor(pool));
            return pool;
        });
        existing.usePassword(user.password());
        return existing;
    }

    private static BackendConnector.Target targetOf(DatabaseConfig database, UserConfig user) {
        return new BackendConnector.Target(database.host(), database.port(), database.dbname(), user.name(),
                user.password(), database.pool().server());
    }

    /**
     * A backend outside every pool for one client (a replication connection): the pool's server and role,
     * logged in with the client's own startup parameters, on the client's loop. It never counts against max_size.
     */
    public CompletableFuture<BackendConnection> openDedicated(EventLoop loop, DatabaseConfig database, UserConfig user,
                                                              Map<String, String> startupParameters) {
        return opener.connect(loop, targetOf(database, user).withStartupParameters(startupParameters));
    }

    /** Often enough to honour health_check_interval closely, rarely enough to cost nothing. */
    private ScheduledFuture<?> scheduleJanitor(BackendPool pool) {
        long period = Math.max(100, Math.min(1_000, pool.settings().server().healthCheckInterval().toMillis() / 4));
        return loops.next().scheduleAtFixedRate(() -> {
            try {
                pool.maintain();
            } catch (RuntimeException e) {
                log.warn("pool {}: maintenance failed", pool.key(), e);
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * RELOAD: pools of pairs still configured take the new settings; pools of removed databases or users close
     * their idle backends and are left to drain as their clients leave; new pairs get pools.
     */
    public void apply(ProxyConfig config) {
        for (BackendPool pool : pools.values()) {
            DatabaseConfig db = config.database(pool.key().database()).orElse(null);
            UserConfig user = config.user(pool.key().user()).orElse(null);
            // A user not under users: may be one looked up in PostgreSQL, and is as configured as auth: is.
            if (db != null && (user != null || config.auth() != null)) {
                pool.updateSettings(db.pool());
            } else {
                pool.retire("removed from the configuration");
            }
        }
        // Pools are made on first use; only those that must keep backends open exist from the start.
        config.databases().values().forEach(db -> config.users().values().forEach(user -> {
            if (db.pool().minSize() > 0) {
                poolFor(db, user).fill();
            }
        }));
    }

    /**
     * Before a client's DROP DATABASE: pgwarden's idle backends on that PostgreSQL database are closed, and its
     * pools stop refilling to min_size until a client asks them for a backend again.
     */
    public void closeIdleBackendsOf(String dbname) {
        for (BackendPool pool : pools.values()) {
            if (pool.dbname().equals(dbname)) {
                pool.closeForDrop("DROP DATABASE " + dbname + " by a client");
            }
        }
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    public void closeAll(String reason) {
        janitors.forEach(j -> j.cancel(false));
        pools.values().forEach(p -> p.closeAll(reason));
    }
}
