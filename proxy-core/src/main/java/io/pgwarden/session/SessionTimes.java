package io.pgwarden.session;

/**
 * A client's clock readings, and which one-shot timeout actions have fired, for the janitor and the console.
 * Written on the session's loop; the ones the console reads from other threads are volatile.
 */
final class SessionTimes {

    final long connectedAt;
    volatile long stateSince;
    volatile long lastActivity;
    volatile long requestStart;
    /** 0 outside a transaction. */
    volatile long transactionStart;
    volatile long waitStart;
    /** Where query_wait_timeout counts from: the wait's start, or the last moment the pool was seen paused. */
    long waitClockStart;
    /** The transaction start the idle-in-transaction warning was last given for (once per transaction). */
    long warnedForTransactionAt;
    boolean waitNoticeSent;
    /** The failover NOTICE, apart from the full pool's: a client told it waits for a busy pool is told again. */
    boolean failoverNoticeSent;
    boolean queryCancelSent;

    SessionTimes(long now) {
        connectedAt = now;
        stateSince = now;
        lastActivity = now;
    }

    void waitBegins(long now) {
        waitStart = now;
        waitClockStart = now;
        waitNoticeSent = false;
        failoverNoticeSent = false;
    }

    void requestBegins() {
        requestStart = lastActivity;
        queryCancelSent = false;
    }
}
