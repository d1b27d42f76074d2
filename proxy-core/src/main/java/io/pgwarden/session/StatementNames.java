package io.pgwarden.session;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Proxy-wide names for prepared statements: one per distinct query text and parameter types, so clients that
 * prepare the same query share one server-side statement per backend, and two clients using the same name for
 * different queries never collide. Clients using the same statement share one copy of its text, so the bytes
 * counted here are the bytes kept.
 * <p>
 * Each entry is counted by the client statements that use it, and one that a live client uses is never evicted.
 * Once the last of them is gone (Close, DEALLOCATE ALL, DISCARD ALL, the client leaving) the entry is kept only
 * while released ones take at most a quarter of the bound, so that clients reconnecting with the same queries
 * find them on the backends under the same names, while what clients left behind is mostly given back; the
 * least recently released goes first, also when a live client's statement needs the room.
 * <p>
 * Shared by all event loops, under one lock held only for a map operation: it is taken on a client's Parse and
 * Close and when a client leaves, never on a Bind.
 */
public final class StatementNames {

    /**
     * A statement kept for the client statements using it. Its {@link #body} is the only copy the proxy keeps;
     * the handle is given back through {@link #release}, once per {@link #acquire}.
     */
    public static final class Shared {
        private final Key key;
        private final String name;
        private final byte[] nameBytes;
        /** Guarded by the {@link StatementNames} that made it. */
        private int users;

        private Shared(Key key, String name) {
            this.key = key;
            this.name = name;
            this.nameBytes = name.getBytes(StandardCharsets.UTF_8);
        }

        /** The proxy-wide name, as the backends know it. */
        public String name() {
            return name;
        }

        public byte[] nameBytes() {
            return nameBytes;
        }

        /** A Parse after its name: query text and parameter types. Must not be modified. */
        public byte[] body() {
            return key.body;
        }
    }

    /** A Parse body by content, hashed before the lock is taken. */
    private static final class Key {
        final byte[] body;
        final int hash;

        Key(byte[] body) {
            this.body = body;
            this.hash = Arrays.hashCode(body);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(k.body, body);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * Heap an entry takes besides its text (objects, name, map nodes), so that many tiny statements are bounded
     * too; a client's statements are counted with it as well.
     */
    public static final int OVERHEAD = 160;

    private final long maxBytes;
    private final long maxBytesPerClient;
    private final long maxUnusedBytes;
    private final Map<Key, Shared> byBody = new HashMap<>();
    /** The entries no client uses, least recently released first. */
    private final LinkedHashSet<Shared> unused = new LinkedHashSet<>();
    private long bytes;
    private long unusedBytes;
    private long counter;
    private final AtomicLong clock = new AtomicLong();

    /**
     * @param maxBytes the most bytes kept for all clients' statements together
     * @param maxBytesPerClient the most one client's named statements may take
     */
    public StatementNames(long maxBytes, long maxBytesPerClient) {
        this.maxBytes = maxBytes;
        this.maxBytesPerClient = maxBytesPerClient;
        this.maxUnusedBytes = maxBytes / 4;
    }

    /** What one entry for {@code body} counts. */
    public static long cost(byte[] body) {
        return body.length + (long) OVERHEAD;
    }

    /**
     * One more client statement uses {@code parseBody} (a Parse after its name: query text and parameter types;
     * not modified later).
     * @return the shared statement, to be given back once through {@link #release}; null when a new entry would
     *     take the names past their byte bound with every unused one evicted
     */
    public Shared acquire(byte[] parseBody) {
        Key key = new Key(parseBody);
        long cost = cost(parseBody);
        synchronized (this) {
            Shared shared = byBody.get(key);
            if (shared == null) {
                evictUnused(maxBytes - cost);
                if (bytes + cost > maxBytes) {
                    return null;
                }
                shared = new Shared(key, "pgwarden_" + ++counter);
                byBody.put(key, shared);
                bytes += cost;
            } else if (shared.users == 0) {
                unused.remove(shared);
                unusedBytes -= cost;
            }
            shared.users++;
            return shared;
        }
    }

    /** A client statement using {@code shared} is gone. */
    public void release(Shared shared) {
        synchronized (this) {
            releaseLocked(shared);
        }
    }

    /** All of a client's statements are gone (it left, or deallocated them): one lock for all of them. */
    public void releaseAll(Iterable<Shared> statements) {
        synchronized (this) {
            statements.forEach(this::releaseLocked);
        }
    }

    private void releaseLocked(Shared shared) {
        assert shared.users > 0 : shared.name + " released more often than acquired";
        if (shared.users > 0 && --shared.users == 0) {
            unused.add(shared);
            unusedBytes += cost(shared.key.body);
            evictUnused(maxBytes);
        }
    }

    /** Evicts unused entries, oldest first, until all take at most {@code room} and unused ones their share. */
    private void evictUnused(long room) {
        Iterator<Shared> oldest = unused.iterator();
        while ((bytes > room || unusedBytes > maxUnusedBytes) && oldest.hasNext()) {
            Shared evicted = oldest.next();
            oldest.remove();
            byBody.remove(evicted.key);
            long cost = cost(evicted.key.body);
            bytes -= cost;
            unusedBytes -= cost;
        }
    }

    /** Bytes kept, for live clients' statements and as room allows for released ones. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Bytes live clients' statements use: what cannot be evicted. */
    public synchronized long bytesInUse() {
        return bytes - unusedBytes;
    }

    /** Distinct statements kept. */
    public synchronized int size() {
        return byBody.size();
    }

    public long maxBytes() {
        return maxBytes;
    }

    public long maxBytesPerClient() {
        return maxBytesPerClient;
    }

    /**
     * A proxy-wide order of the Parses sent to servers and answered by them: a copy of a statement whose Parse
     * was sent after another's was answered was parsed after it, on whichever backends they were.
     */
    public long nextStamp() {
        return clock.incrementAndGet();
    }
}
