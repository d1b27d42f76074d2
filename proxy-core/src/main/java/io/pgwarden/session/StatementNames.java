package io.pgwarden.session;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Proxy-wide names for prepared statements: one per distinct query text and parameter types, so clients that
 * prepare the same query share one server-side statement per backend, and two clients using the same name for
 * different queries never collide. Each entry is counted by the client statements that use it; once the last of
 * them is gone (Close, DEALLOCATE, the client leaving) it stays only as long as the byte bound has room, so the
 * next client preparing the same query still finds the copies on the backends, and it is the first to go, least
 * recently released first, when a live client's statement needs the room. A statement a live client maps is
 * never evicted.
 */
public final class StatementNames {

    private static final class Entry {
        final String name;
        int users;

        Entry(String name) {
            this.name = name;
        }
    }

    private final long maxBytes;
    private final long maxBytesPerClient;
    private final Map<ByteBuffer, Entry> names = new HashMap<>();
    /** The entries no client uses, least recently released first. */
    private final LinkedHashMap<ByteBuffer, Entry> unused = new LinkedHashMap<>();
    private long bytes;
    private final AtomicLong counter = new AtomicLong();
    private final AtomicLong clock = new AtomicLong();

    /**
     * @param maxBytes the most bytes of Parse bodies kept for all clients together
     * @param maxBytesPerClient the most one client's named statements may take of them
     */
    public StatementNames(long maxBytes, long maxBytesPerClient) {
        this.maxBytes = maxBytes;
        this.maxBytesPerClient = maxBytesPerClient;
    }

    /**
     * One more client statement uses {@code parseBody} (a Parse after its name: query text and parameter types;
     * must not be modified later); each call is matched by one {@link #release}.
     * @return its proxy-wide name, or null when a new entry would take the map past its byte bound
     */
    public synchronized String acquire(byte[] parseBody) {
        ByteBuffer key = ByteBuffer.wrap(parseBody);
        Entry entry = names.get(key);
        if (entry == null) {
            Iterator<Map.Entry<ByteBuffer, Entry>> oldest = unused.entrySet().iterator();
            while (bytes + parseBody.length > maxBytes && oldest.hasNext()) {
                ByteBuffer evicted = oldest.next().getKey();
                oldest.remove();
                names.remove(evicted);
                bytes -= evicted.remaining();
            }
            if (bytes + parseBody.length > maxBytes) {
                return null;
            }
            entry = new Entry("pgwarden_" + counter.incrementAndGet());
            names.put(key, entry);
            bytes += parseBody.length;
        }
        if (entry.users++ == 0) {
            unused.remove(key);
        }
        return entry.name;
    }

    /** A client statement using {@code parseBody} is gone. */
    public synchronized void release(byte[] parseBody) {
        ByteBuffer key = ByteBuffer.wrap(parseBody);
        Entry entry = names.get(key);
        if (entry != null && --entry.users == 0) {
            unused.put(key, entry);
        }
    }

    /** Bytes of Parse bodies held, for live clients' statements and as room allows for released ones. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Bytes of Parse bodies live clients' statements use: what cannot be evicted. */
    public synchronized long bytesInUse() {
        long inUse = bytes;
        for (ByteBuffer key : unused.keySet()) {
            inUse -= key.remaining();
        }
        return inUse;
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
