package io.pgwarden.session;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Maps the BackendKeyData pgwarden gives each client to that client's session, so a CancelRequest
 * (which arrives on a new connection) can find the backend currently serving it.
 */
public final class CancelRegistry {

    private final ConcurrentMap<Integer, ClientSession> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger nextProcessId = new AtomicInteger(1);
    private final SecureRandom random = new SecureRandom();

    /** Assigned key of one client. */
    public record Key(int processId, int secretKey) {
    }

    /**
     * Session mode: the client is told its backend's real pid, so pg_backend_pid(), notification pids and
     * pg_terminate_backend agree with what the driver knows; the secret stays pgwarden's own.
     */
    Key register(ClientSession session, int backendPid) {
        if (backendPid > 0 && sessions.putIfAbsent(backendPid, session) == null) {
            return new Key(backendPid, random.nextInt());
        }
        return register(session);
    }

    Key register(ClientSession session) {
        int pid;
        do {
            pid = nextProcessId.getAndUpdate(p -> p == Integer.MAX_VALUE ? 1 : p + 1);
        } while (sessions.putIfAbsent(pid, session) != null);
        return new Key(pid, random.nextInt());
    }

    void unregister(Key key) {
        if (key != null) {
            sessions.remove(key.processId());
        }
    }

    /** Finds a session by pid and secret; a wrong secret is treated like an unknown pid. */
    public ClientSession find(int processId, int secretKey) {
        ClientSession session = sessions.get(processId);
        return session != null && session.matchesSecret(secretKey) ? session : null;
    }
}
