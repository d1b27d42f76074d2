package io.pgwarden.session;

import java.util.Arrays;

/**
 * The sessions of one event loop that the janitor visits every round: those with a deadline that needs
 * sub-second precision (logging in, waiting for a backend, in a request or a transaction). Idle clients, often
 * thousands, are left to the janitor's once-a-second sweep, so that they cost nothing between sweeps.
 *
 * <p>Touched only on its loop. A session enters when it leaves {@link ClientState#IDLE} and is dropped at the
 * first round that finds it idle or closed, so a busy client is added at most once per round, not per request.
 */
final class Watchlist {

    private ClientSession[] sessions = new ClientSession[16];
    private int size;

    /** Anything but idle has a deadline finer than the janitor's once-a-second sweep; replication has none. */
    static boolean needsWatching(ClientState state) {
        return state != ClientState.IDLE && state != ClientState.CLOSED && state != ClientState.REPLICATION;
    }

    void add(ClientSession session) {
        if (size == sessions.length) {
            sessions = Arrays.copyOf(sessions, size * 2);
        }
        sessions[size++] = session;
    }

    /**
     * Runs every watched session's timeouts and drops those that no longer need watching. A timeout may change
     * other sessions (a backend freed by a closed client goes to a waiter, which then joins the list): the loop
     * rereads the array and its size, so those are visited in this same round.
     */
    void tick(long nowNanos) {
        int kept = 0;
        for (int i = 0; i < size; i++) {
            ClientSession session = sessions[i];
            sessions[i] = null;
            session.janitorTick(nowNanos);
            if (needsWatching(session.state())) {
                sessions[kept++] = session;
            } else {
                session.watched = false;
            }
        }
        size = kept;
    }
}
