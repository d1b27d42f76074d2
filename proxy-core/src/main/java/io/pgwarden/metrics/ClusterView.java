package io.pgwarden.metrics;

/**
 * Point-in-time view of one database entry's hosts, supplied by the proxy at scrape time, like {@link PoolView}.
 *
 * @param secondsWithoutTarget total time no host matched target_session_attrs, the running failover's included
 * @param clientsHeld clients waiting for a backend while a failover is in progress
 * @param failoverReplays requests replayed on another host than the one they were lost on
 */
public record ClusterView(String database, long failoversCompleted, boolean failoverInProgress,
                          double secondsWithoutTarget, int clientsHeld, boolean splitBrain,
                          long failoverReplays) {
}
