package io.pgwarden.session;

import io.netty.channel.EventLoop;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every live client session, for the admin console and for the per-event-loop janitor that enforces client
 * timeouts (each loop scans only its own sessions, so no session is touched off its loop).
 */
public final class SessionRegistry {

    private final Map<Long, ClientSession> byId = new ConcurrentHashMap<>();
    private final Map<EventLoop, Set<ClientSession>> byLoop = new ConcurrentHashMap<>();

    void add(ClientSession session) {
        byId.put(session.id(), session);
        byLoop.computeIfAbsent(session.eventLoop(), l -> ConcurrentHashMap.newKeySet()).add(session);
    }

    void remove(ClientSession session) {
        byId.remove(session.id());
        Set<ClientSession> onLoop = byLoop.get(session.eventLoop());
        if (onLoop != null) {
            onLoop.remove(session);
        }
    }

    public Collection<ClientSession> all() {
        return byId.values();
    }

    public ClientSession find(long id) {
        return byId.get(id);
    }

    /** Runs the janitor's round for the sessions of {@code loop}; call on that loop. */
    public void tick(EventLoop loop, long nowNanos) {
        Set<ClientSession> onLoop = byLoop.get(loop);
        if (onLoop != null) {
            for (ClientSession session : onLoop) {
                session.janitorTick(nowNanos);
            }
        }
    }
}
