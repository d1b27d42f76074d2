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
        return ErrorResponse.error("08001", "pgwarden: no server of database " + cluster.database()
                        + " matches target_session_attrs=" + cluster.settings().targetSessionAttrs() + " after waiting "
                        + waitedNanos / 1_000_000 + " ms (failover_timeout "
                        + cluster.settings().failoverTimeout().toMillis() + " ms): " + cluster.hostsPicture())
                .withDetail(since < 0 ? null : "failover in progress for " + seconds(System.nanoTime() - since)
                        + (cause == null ? "" : "; it began with: " + cause))
                .withHint("make one of the hosts a primary (promote a standby), or list the new primary under hosts and "
                        + "RELOAD; failover_timeout sets how long clients are held");
    }

    static ErrorResponse notice(Cluster cluster, long now) {
        long since = cluster.holdingSinceNanos();
        return new ErrorResponse("NOTICE", "00000", "pgwarden: failover in progress for database "
                + cluster.database() + ": no server matches target_session_attrs=" + cluster.settings().targetSessionAttrs()
                + (since < 0 ? "" : " since " + seconds(now - since)) + "; waiting up to "
                + seconds(cluster.settings().failoverTimeout().toNanos()) + " (failover_timeout)",
                cluster.hostsPicture(), null);
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }
}
