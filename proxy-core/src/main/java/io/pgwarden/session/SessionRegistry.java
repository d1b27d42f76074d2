package io.pgwarden.session;

import io.netty.channel.EventLoop;
import io.pgwarden.pool.PoolKey;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every live client session, for the admin console and for the per-event-loop janitor that enforces client
 * timeouts (each loop looks only at its own sessions, so no session is touched off its loop).
 */
public final class SessionRegistry {

    /** The janitor sweeps every session of a loop once in this many rounds, and the {@link Watchlist} each round. */
    static final int SWEEP_EVERY_ROUNDS = 10;

    private final Map<Long, ClientSession> byId = new ConcurrentHashMap<>();
    private final Map<EventLoop, OnLoop> byLoop = new ConcurrentHashMap<>();
    private final Map<PoolKey, PoolClients> byPool = new ConcurrentHashMap<>();
    private final Drain drain = new Drain(this);

    /** One loop's sessions: all of them, and those watched every round. */
    private static final class OnLoop {
        final Set<ClientSession> all = ConcurrentHashMap.newKeySet();
        final Watchlist watched = new Watchlist();
        int rounds;
    }

    /** Registers the session; call on its loop. Returns the loop's watchlist, which the session joins when busy. */
    Watchlist add(ClientSession session) {
        byId.put(session.id(), session);
        OnLoop onLoop = byLoop.computeIfAbsent(session.eventLoop(), l -> new OnLoop());
        onLoop.all.add(session);
        return onLoop.watched;
    }

    void remove(ClientSession session) {
        byId.remove(session.id());
        OnLoop onLoop = byLoop.get(session.eventLoop());
        if (onLoop != null) {
            onLoop.all.remove(session);
        }
    }

    /** What the clients of one pool share, counts by state among it. */
    public PoolClients clientsOf(PoolKey pool) {
        return byPool.computeIfAbsent(pool, k -> new PoolClients());
    }

    /** Whether any client is on that pool; creates nothing. */
    public boolean hasClients(PoolKey pool) {
        PoolClients clients = byPool.get(pool);
        return clients != null && clients.total() > 0;
    }

    /** The pool is gone; clients still on it keep their own reference. */
    public void forget(PoolKey pool) {
        byPool.remove(pool);
    }

    /** The graceful stop of these sessions, idle until it begins. */
    public Drain drain() {
        return drain;
    }

    public Collection<ClientSession> all() {
        return byId.values();
    }

    public ClientSession find(long id) {
        return byId.get(id);
    }

    /**
     * Runs the janitor's round for the sessions of {@code loop}; call on that loop. Busy sessions are checked
     * every round; idle ones, which only client.idle_timeout can end, once every {@link #SWEEP_EVERY_ROUNDS}.
     */
    public void tick(EventLoop loop, long nowNanos) {
        OnLoop onLoop = byLoop.get(loop);
        if (onLoop == null) {
            return;
        }
        onLoop.watched.tick(nowNanos);
        if (++onLoop.rounds % SWEEP_EVERY_ROUNDS == 0) {
            for (ClientSession session : onLoop.all) {
                if (!session.watched) {
                    session.janitorTick(nowNanos);
                }
            }
        }
    }
}
