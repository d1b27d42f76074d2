package io.pgwarden.pool;

import io.pgwarden.config.AnyDatabaseConfig;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which pools serve databases of the {@code "*"} entry, and when each last had a client: such a pool is closed
 * and forgotten after {@code auto_database_idle_timeout} without one, and at most {@code max_auto_pools} of
 * them exist at once, so a client asking for random names cannot grow memory without limit.
 */
final class AutoPools {

    /** Pool to the last time it was handed to a client or seen with clients (System.nanoTime). */
    private final Map<PoolKey, Long> lastUsed = new ConcurrentHashMap<>();
    private volatile AnyDatabaseConfig settings;

    boolean isAuto(PoolKey key) {
        return lastUsed.containsKey(key);
    }

    int size() {
        return lastUsed.size();
    }

    AnyDatabaseConfig settings() {
        return settings;
    }

    void configure(AnyDatabaseConfig next) {
        settings = next;
    }

    /** A new auto pool. */
    void add(PoolKey key, long nowNanos) {
        lastUsed.put(key, nowNanos);
    }

    /** Seen in use; a pool forgotten meanwhile stays forgotten, or its slot under the bound would never free. */
    void touch(PoolKey key, long nowNanos) {
        lastUsed.computeIfPresent(key, (k, last) -> Math.max(last, nowNanos));
    }

    void forget(PoolKey key) {
        lastUsed.remove(key);
    }

    Iterable<PoolKey> keys() {
        return lastUsed.keySet();
    }

    /** Without clients for longer than the idle timeout (or the "*" entry is gone, and so is any reason to wait). */
    boolean idleSince(PoolKey key, long nowNanos) {
        Long last = lastUsed.get(key);
        AnyDatabaseConfig current = settings;
        return last != null && (current == null || nowNanos - last >= current.idleTimeout().toNanos());
    }
}
