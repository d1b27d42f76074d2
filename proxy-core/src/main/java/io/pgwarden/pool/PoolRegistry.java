package io.pgwarden.pool;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendOpener;
import io.pgwarden.cluster.Clusters;
import io.pgwarden.config.AnyDatabaseConfig;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.config.UserConfig;
import io.pgwarden.log.LogValues;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Every pool of the process, created on first use of a (database, backend user) pair. Pools of databases the
 * {@code "*"} entry serves ({@link AutoPools}) are also closed and forgotten once unused.
 */
public final class PoolRegistry {

    private static final Logger log = LoggerFactory.getLogger(PoolRegistry.class);
    /** How often auto pools are looked at: a tenth of a second late on a timeout of an hour costs nothing. */
    private static final long AUTO_SWEEP_MILLIS = 200;

    private final BackendOpener opener;
    private final Clusters clusters;
    private final EventLoopGroup loops;
    private final EventLog events;
    private final ProxyMetrics metrics;
    private final PoolUsers users;

    private final ConcurrentMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private final ConcurrentMap<BackendPool, ScheduledFuture<?>> janitors = new ConcurrentHashMap<>();
    private final AutoPools auto = new AutoPools();
    private final ScheduledFuture<?> autoSweep;

    /** Without a view of the clients: auto pools are then never taken for unused. */
    public PoolRegistry(BackendOpener opener, EventLoopGroup loops, EventLog events, ProxyMetrics metrics) {
        this(opener, loops, events, metrics, new PoolUsers() {
            @Override
            public boolean hasClients(PoolKey pool) {
                return true;
            }

            @Override
            public void forget(PoolKey pool) {
            }
        });
    }

    public PoolRegistry(BackendOpener opener, EventLoopGroup loops, EventLog events, ProxyMetrics metrics,
                        PoolUsers users) {
        this.opener = opener;
        this.clusters = new Clusters(opener, events);
        this.loops = loops;
        this.events = events;
        this.metrics = metrics;
        this.users = users;
        this.autoSweep = loops.next().scheduleAtFixedRate(this::sweepAutoPools, AUTO_SWEEP_MILLIS, AUTO_SWEEP_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** The pool of a named database; all clients of a database with a forced user share one. */
    public BackendPool poolFor(DatabaseConfig database, UserConfig user) {
        UserConfig backendUser = database.forcedUser().orElse(user);
        return withSecretOf(database, user, pools.computeIfAbsent(new PoolKey(database.name(), backendUser.name()),
                k -> newPool(k, database, backendUser)));
    }

    /**
     * The pool of a database the {@code "*"} entry serves, made on first use; empty when
     * {@code max_auto_pools} pools exist already (or RELOAD removed the entry).
     */
    public Optional<BackendPool> autoPoolFor(DatabaseConfig database, UserConfig user) {
        UserConfig backendUser = database.forcedUser().orElse(user);
        long now = System.nanoTime();
        // Under the map's lock for this key: the sweep removes a pool under the same lock, so a pool handed out
        // here has just been touched and is never one the sweep is closing.
        return Optional.ofNullable(pools.compute(new PoolKey(database.name(), backendUser.name()), (k, existing) -> {
            if (existing != null) {
                auto.touch(k, now);
                return existing;
            }
            synchronized (auto) {
                AnyDatabaseConfig any = auto.settings();
                if (any == null || auto.size() >= any.maxPools()) {
                    return null;
                }
                auto.add(k, now);
            }
            BackendPool pool = newPool(k, database, backendUser);
            pool.onDatabaseMissing(() -> forget(k, pool, "database \"" + database.dbname() + "\" does not exist"));
            return pool;
        })).map(pool -> withSecretOf(database, user, pool));
    }

    /**
     * A looked-up user's secret changes with ALTER ROLE ... PASSWORD: new backends log in with the one its client
     * was just checked against. A forced user's comes from the config alone.
     */
    private static BackendPool withSecretOf(DatabaseConfig database, UserConfig user, BackendPool pool) {
        if (database.forcedUser().isEmpty()) {
            pool.usePassword(user.password());
        }
        return pool;
    }

    private BackendPool newPool(PoolKey key, DatabaseConfig database, UserConfig backendUser) {
        BackendPool pool = new BackendPool(key, database.pool(), clusters.openerFor(database),
                targetOf(database, backendUser), loops, events, metrics);
        clusters.openerFor(database).cluster().watchWaits(() -> waitsOf(key.database()));
        janitors.put(pool, scheduleJanitor(pool));
        return pool;
    }

    private static BackendConnector.Target targetOf(DatabaseConfig database, UserConfig user) {
        // A forced user without a password (trust in PostgreSQL) has an empty one.
        String password = user.password().isEmpty() ? null : user.password();
        return new BackendConnector.Target(database.host(), database.port(), database.dbname(), user.name(),
                password, database.pool().server());
    }

    /**
     * A backend outside every pool for one client (a replication connection): the pool's server and role,
     * logged in with the client's own startup parameters, on the client's loop. It never counts against max_size.
     */
    public CompletableFuture<BackendConnection> openDedicated(EventLoop loop, DatabaseConfig database, UserConfig user,
                                                              Map<String, String> startupParameters) {
        return clusters.openerFor(database).connect(loop, targetOf(database, database.forcedUser().orElse(user))
                .withStartupParameters(startupParameters));
    }

    /** For the failover_end event: how many clients of the database wait for a backend, and the longest for how long. */
    private String waitsOf(String database) {
        long now = System.nanoTime();
        int waiting = 0;
        long longest = 0;
        for (BackendPool pool : pools.values()) {
            if (pool.key().database().equals(database)) {
                waiting += pool.counts().waiting();
                longest = Math.max(longest, pool.longestWaitNanos(now));
            }
        }
        return "clients_waiting=" + waiting + " longest_wait_ms=" + longest / 1_000_000;
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

    private void sweepAutoPools() {
        try {
            long now = System.nanoTime();
            for (PoolKey key : auto.keys()) {
                if (users.hasClients(key)) {
                    auto.touch(key, now);
                    continue;
                }
                BackendPool[] removed = new BackendPool[1];
                pools.computeIfPresent(key, (k, pool) -> {
                    if (!auto.idleSince(k, now) || users.hasClients(k)) {
                        return pool;
                    }
                    removed[0] = pool;
                    auto.forget(k);
                    return null;
                });
                if (removed[0] != null) {
                    closeForgotten(key, removed[0], "auto_database_idle_timeout without clients");
                }
            }
        } catch (RuntimeException e) {
            log.warn("auto database sweep failed", e);
        }
    }

    /** A pool leaves the registry now; clients still on it are served until they leave, and nothing stays idle. */
    private void forget(PoolKey key, BackendPool pool, String reason) {
        boolean[] removed = new boolean[1];
        // Under the key's lock, as the sweep: a pool made for the key just after must stay counted.
        pools.computeIfPresent(key, (k, current) -> {
            if (current != pool) {
                return current;
            }
            removed[0] = true;
            auto.forget(k);
            return null;
        });
        if (removed[0]) {
            closeForgotten(key, pool, reason);
        }
    }

    /** Its key is out of the map and of {@link AutoPools} already. */
    private void closeForgotten(PoolKey key, BackendPool pool, String reason) {
        ScheduledFuture<?> janitor = janitors.remove(pool);
        if (janitor != null) {
            janitor.cancel(false);
        }
        pool.retire(reason);
        pool.closeAll(reason);
        users.forget(key);
        boolean lastOfDatabase = pools.keySet().stream().noneMatch(k -> k.database().equals(key.database()));
        if (lastOfDatabase) {
            clusters.forget(key.database());
        }
        metrics.forgetPool(key.database(), key.user(), lastOfDatabase);
        log.info("event=pool_forgotten pool={} reason={}", key, LogValues.quote(reason));
    }

    /**
     * RELOAD: pools of pairs still configured take the new settings; pools of removed databases or users close
     * their idle backends and are left to drain as their clients leave; new pairs get pools. Pools the "*" entry
     * made stay while it does; one whose name is now a named entry leaves the registry, as the named entry wins.
     */
    public void apply(ProxyConfig config) {
        auto.configure(config.anyDatabase());
        for (Map.Entry<PoolKey, BackendPool> entry : pools.entrySet()) {
            BackendPool pool = entry.getValue();
            boolean isAuto = auto.isAuto(entry.getKey());
            if (isAuto && config.database(entry.getKey().database()).isPresent()) {
                forget(entry.getKey(), pool, "a named database entry replaced the \"*\" entry for it");
                continue;
            }
            DatabaseConfig db = isAuto
                    ? Optional.ofNullable(config.anyDatabase()).map(any -> any.forName(pool.key().database()))
                            .orElse(null)
                    : config.database(pool.key().database()).orElse(null);
            if (db != null && servesUser(config, db, pool.key())) {
                clusters.update(db);
                pool.updateSettings(db.pool());
                db.forcedUser().ifPresent(forced -> pool.updateTarget(targetOf(db, forced)));
            } else if (db == null && !isAuto && config.anyDatabase() != null) {
                // The "*" entry serves the name now, with a pool of its own under this key.
                forget(pool.key(), pool, "removed from the configuration");
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

    /** Whether {@code key} is still one of {@code db}'s pools: of its forced user, or of a user it may serve. */
    private static boolean servesUser(ProxyConfig config, DatabaseConfig db, PoolKey key) {
        if (db.user() != null) {
            return db.forcedUser().filter(forced -> forced.name().equals(key.user())).isPresent();
        }
        // A user not under users: may be one looked up in PostgreSQL, and is as configured as auth: is.
        return config.user(key.user()).isPresent() || config.auth() != null;
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

    /** The hosts of each database in use and which of them its backends go to. */
    public Clusters clusters() {
        return clusters;
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    public void closeAll(String reason) {
        autoSweep.cancel(false);
        janitors.values().forEach(j -> j.cancel(false));
        clusters.stopAll();
        pools.values().forEach(p -> p.closeAll(reason));
    }
}
