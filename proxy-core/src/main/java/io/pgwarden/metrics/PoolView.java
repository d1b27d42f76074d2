package io.pgwarden.metrics;

/**
 * Point-in-time view of one pool, supplied by the proxy. States are counts.
 *
 * <p>The proxy builds these on demand (each scrape or readiness probe) so the metrics package keeps no copy
 * of pool state that could drift from the real one.
 *
 * @param readinessDetail why the pool is or is not ready, for humans reading /ready; may be null
 */
public record PoolView(String database, String user, String poolMode,
        int clientsActive, int clientsIdle, int clientsIdleInTransaction, int clientsWaiting,
        int serversActive, int serversIdle, int serversTesting, int serversOpening, int maxSize,
        long longestWaitMillis, long transactions, long queries, long bytesIn, long bytesOut,
        boolean paused, boolean ready, String readinessDetail) {
}
