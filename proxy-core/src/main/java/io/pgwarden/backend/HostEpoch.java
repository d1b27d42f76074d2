package io.pgwarden.backend;

/**
 * How often one server was found no longer fitting its database (a primary turned standby or read-only):
 * backends that logged in to it before the latest such finding are retired as they come back to the pool.
 */
public final class HostEpoch {

    private volatile int value;
    private volatile String why;

    public int value() {
        return value;
    }

    /** Why backends of an earlier epoch are retired, or null before any finding. */
    public String why() {
        return why;
    }

    public synchronized void advance(String reason) {
        why = reason;
        value++;
    }
}
