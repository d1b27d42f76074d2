package io.pgwarden.session;

import io.pgwarden.config.Peers;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Maps the BackendKeyData pgwarden gives each client to that client's session, so a CancelRequest
 * (which arrives on a new connection) can find the backend currently serving it.
 *
 * <p>With listen.peers, the secret carries the id of the process that handed it out, so a process that shares the
 * port (listen.reuse_port) and receives the cancel can tell whose it is. The secret, not the process id: in session
 * mode the process id is the backend's real pid, which pgwarden does not choose. Layout then: bit 31 is clear in every
 * key handed out and set on a forwarded cancel (so it is never forwarded again), bits 30-24 are the peer id, and 24
 * random bits remain (32 without peers): guessing a live key blindly still takes millions of cancel connections.
 */
public final class CancelRegistry {

    /** Set on a CancelRequest one peer forwards to another. */
    public static final int FORWARDED = 0x8000_0000;
    private static final int PEER_SHIFT = 24;
    private static final int PEER_MASK = 0x7f;
    private static final int RANDOM_MASK = (1 << PEER_SHIFT) - 1;

    private final ConcurrentMap<Integer, ClientSession> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger nextProcessId = new AtomicInteger(1);
    private final SecureRandom random = new SecureRandom();
    /** listen.peer_id at start, 0 without peers: the secrets of clients already connected carry it. */
    private final int peerId;
    /** listen.peers at start, as the peer listener was bound from them (a reload does not change either). */
    private final Peers peers;

    public CancelRegistry() {
        this(Peers.none());
    }

    public CancelRegistry(Peers peers) {
        this.peers = peers;
        this.peerId = peers.selfId();
        if (peerId < 0 || peerId > PEER_MASK) {
            throw new IllegalArgumentException("peer id " + peerId);
        }
    }

    /** Where the peer with this id takes cancel requests, or null when listen.peers does not list it. */
    public Peers.PeerAddress peerAddress(int id) {
        return peers.addresses().get(id);
    }

    public int peerId() {
        return peerId;
    }

    /** The peer whose key this is, or 0 when peering is off (every key is then this process's own). */
    public int ownerOf(int secretKey) {
        return peerId == 0 ? 0 : (secretKey >>> PEER_SHIFT) & PEER_MASK;
    }

    /** True for a cancel another peer forwarded here, which this process must not forward again. */
    public boolean forwarded(int secretKey) {
        return peerId != 0 && (secretKey & FORWARDED) != 0;
    }

    private int newSecret() {
        int secret = random.nextInt();
        return peerId == 0 ? secret : (peerId << PEER_SHIFT) | (secret & RANDOM_MASK);
    }

    /** Assigned key of one client. */
    public record Key(int processId, int secretKey) {
    }

    /**
     * Session mode: the client is told its backend's real pid, so pg_backend_pid(), notification pids and
     * pg_terminate_backend agree with what the driver knows; the secret stays pgwarden's own.
     */
    Key register(ClientSession session, int backendPid) {
        if (backendPid > 0 && sessions.putIfAbsent(backendPid, session) == null) {
            return new Key(backendPid, newSecret());
        }
        return register(session);
    }

    Key register(ClientSession session) {
        int pid;
        do {
            pid = nextProcessId.getAndUpdate(p -> p == Integer.MAX_VALUE ? 1 : p + 1);
        } while (sessions.putIfAbsent(pid, session) != null);
        return new Key(pid, newSecret());
    }

    void unregister(Key key) {
        if (key != null) {
            sessions.remove(key.processId());
        }
    }

    /** Finds a session by pid and secret (forwarded or not); a wrong secret is treated like an unknown pid. */
    public ClientSession find(int processId, int secretKey) {
        int secret = peerId == 0 ? secretKey : secretKey & ~FORWARDED;
        ClientSession session = sessions.get(processId);
        return session != null && session.matchesSecret(secret) ? session : null;
    }
}
