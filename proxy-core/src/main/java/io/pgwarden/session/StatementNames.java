package io.pgwarden.session;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Proxy-wide names for prepared statements: one per distinct query text and parameter types, so clients that
 * prepare the same query share one server-side statement per backend, and two clients using the same name for
 * different queries never collide.
 */
public final class StatementNames {

    /** Past this many distinct statements the map starts over; existing names stay valid, new ones are fresh. */
    private static final int MAX_REMEMBERED = 100_000;

    private final ConcurrentMap<ByteBuffer, String> names = new ConcurrentHashMap<>();
    private final AtomicLong counter = new AtomicLong();
    private final AtomicLong clock = new AtomicLong();

    /** {@code parseBody}: a Parse after its name (query text and parameter types); must not be modified later. */
    public String nameFor(byte[] parseBody) {
        if (names.size() > MAX_REMEMBERED) {
            names.clear();
        }
        return names.computeIfAbsent(ByteBuffer.wrap(parseBody), k -> "pgwarden_" + counter.incrementAndGet());
    }

    /**
     * A proxy-wide order of the Parses sent to servers and answered by them: a copy of a statement whose Parse
     * was sent after another's was answered was parsed after it, on whichever backends they were.
     */
    public long nextStamp() {
        return clock.incrementAndGet();
    }
}
