package io.pgwarden.pool;

import io.netty.channel.EventLoopGroup;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.UserConfig;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Every pool of the process, created on first use of a (database, user) pair. */
public final class PoolRegistry {

    private final BackendConnector connector;
    private final EventLoopGroup loops;
    private final ConcurrentMap<PoolKey, BackendPool> pools = new ConcurrentHashMap<>();

    public PoolRegistry(BackendConnector connector, EventLoopGroup loops) {
        this.connector = connector;
        this.loops = loops;
    }

    public BackendPool poolFor(DatabaseConfig database, UserConfig user) {
        PoolKey key = new PoolKey(database.name(), user.name());
        return pools.computeIfAbsent(key, k -> new BackendPool(k, database.pool(), connector,
                new BackendConnector.Target(database.host(), database.port(), database.dbname(), user.name(),
                        user.password(), database.pool().connectTimeout()), loops));
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    public void closeAll(String reason) {
        pools.values().forEach(p -> p.closeAll(reason));
    }
}
