package io.pgwarden.pool;

import io.netty.channel.EventLoopGroup;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.UserConfig;
import java.util.Collection;
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

    private final BackendConnector connector;
    private final EventLoopGroup loops;
    private static final Logger log = LoggerFactory.getLogger(PoolRegistry.class);

    private final ConcurrentMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();
    private final Queue<ScheduledFuture<?>> janitors = new ConcurrentLinkedQueue<>();

    public PoolRegistry(BackendConnector connector, EventLoopGroup loops) {
        this.connector = connector;
        this.loops = loops;
    }

    public BackendPool poolFor(DatabaseConfig database, UserConfig user) {
        PoolKey key = new PoolKey(database.name(), user.name());
        return pools.computeIfAbsent(key, k -> {
            BackendPool pool = new BackendPool(k, database.pool(), connector,
                    new BackendConnector.Target(database.host(), database.port(), database.dbname(), user.name(),
                            user.password(), database.pool().server()), loops);
            janitors.add(scheduleJanitor(pool));
            return pool;
        });
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

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    public void closeAll(String reason) {
        janitors.forEach(j -> j.cancel(false));
        pools.values().forEach(p -> p.closeAll(reason));
    }
}
