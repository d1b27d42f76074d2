package io.pgwarden.session;

import io.pgwarden.cluster.Cluster;
import io.pgwarden.protocol.ErrorResponse;
import java.util.Locale;

/**
 * What a client held for a failover is told: a NOTICE while it waits, and the one error it gets when
 * failover_timeout passes with no host matching target_session_attrs.
 */
final class FailoverWait {

    private FailoverWait() {
    }

    /**
     * 08001, as pgjdbc answers when no listed host has the asked-for targetServerType (libpq gives no SQLSTATE): the
     * client cannot reach a fitting server, which is not 57P03 (one server starting up). As with query_wait_timeout
     * it is an ERROR, not FATAL: the client keeps its connection and its next request may find the new primary.
     */
    static ErrorResponse timeoutError(Cluster cluster, long waitedNanos) {
        long since = cluster.holdingSinceNanos();
        String cause = cluster.failoverCause();
        return ErrorResponse.error("08001", "pgwarden: " + what(cluster) + " after waiting "
                        + waitedNanos / 1_000_000 + " ms (failover_timeout "
                        + cluster.settings().failoverTimeout().toMillis() + " ms): " + cluster.hostsPicture())
                .withDetail(since < 0 ? null : "failover in progress for " + seconds(System.nanoTime() - since)
                        + (cause == null ? "" : "; it began with: " + cause))
                .withHint(splitBrain(cluster)
                        ? "stop or demote all but one of them, or remove the others from hosts and RELOAD"
                        : "make one of the hosts a primary (promote a standby), or list the new primary under hosts and "
                                + "RELOAD; failover_timeout sets how long clients are held");
    }

    static ErrorResponse notice(Cluster cluster, long now) {
        long since = cluster.holdingSinceNanos();
        return new ErrorResponse("NOTICE", "00000", "pgwarden: failover in progress for database "
                + cluster.database() + ": " + (splitBrain(cluster) ? "split brain, " + writers(cluster)
                + " all accept writes" : "no server matches target_session_attrs=" + cluster.settings().targetSessionAttrs())
                + (since < 0 ? "" : " since " + seconds(now - since)) + "; waiting up to "
                + seconds(cluster.settings().failoverTimeout().toNanos()) + " (failover_timeout)",
                cluster.hostsPicture(), null);
    }

    /** With no target, a split brain found by the search is why clients wait: no host is safe to write to. */
    private static boolean splitBrain(Cluster cluster) {
        return !cluster.stats().splitBrain().isEmpty();
    }

    private static String writers(Cluster cluster) {
        return String.join(" and ", cluster.stats().splitBrain().stream().map(Object::toString).toList());
    }

    private static String what(Cluster cluster) {
        return splitBrain(cluster)
                ? "split brain in database " + cluster.database() + ": " + writers(cluster) + " all accept writes, so "
                        + "pgwarden uses none of them"
                : "no server of database " + cluster.database() + " matches target_session_attrs="
                        + cluster.settings().targetSessionAttrs();
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }
}
