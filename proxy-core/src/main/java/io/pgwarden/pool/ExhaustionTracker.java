package io.pgwarden.pool;

import io.pgwarden.metrics.EventLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Episodes in which clients queue behind a full pool. Only episodes that last a second or more are logged and
 * recorded: a busy pool touches "full" many times a second, and that is not news. An episode ends when nobody
 * waits any more, not when the pool stops being full: the queue is what clients feel.
 */
final class ExhaustionTracker {

    /** BackendPool's, as before this was split out of it: log filters on that name keep working. */
    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
    static final long REPORT_AFTER_NANOS = 1_000_000_000L;

    private final PoolKey key;
    private final EventLog events;
    private boolean inEpisode;
    private long sinceNanos;
    private int peakWaiting;
    private boolean announced;

    ExhaustionTracker(PoolKey key, EventLog events) {
        this.key = key;
        this.events = events;
    }

    /** Whether {@link #note} could change anything. */
    boolean mayChange(int inUse, int maxSize, int waiting) {
        return inEpisode || (waiting > 0 && inUse >= maxSize);
    }

    /** {@link #note} now: the pool calls this on every release, so the clock is read only when it matters. */
    void noteNow(int inUse, int maxSize, int waiting) {
        if (mayChange(inUse, maxSize, waiting)) {
            note(System.nanoTime(), inUse, maxSize, waiting);
        }
    }

    /** After every change to the pool, under its lock. */
    void note(long nowNanos, int inUse, int maxSize, int waiting) {
        if (!inEpisode) {
            if (waiting > 0 && inUse >= maxSize) {
                inEpisode = true;
                sinceNanos = nowNanos;
                peakWaiting = waiting;
                announced = false;
            }
            return;
        }
        peakWaiting = Math.max(peakWaiting, waiting);
        long millis = (nowNanos - sinceNanos) / 1_000_000;
        if (!announced && nowNanos - sinceNanos >= REPORT_AFTER_NANOS) {
            announced = true;
            log.warn("event=pool_exhausted pool={} in_use={} max_size={} waiting={} for_ms={}", key, inUse, maxSize,
                    waiting, millis);
            events.add(key.toString(), "pool_exhausted", "start: " + inUse + "/" + maxSize + " in use, " + waiting
                    + " waiting");
        }
        if (waiting == 0) {
            if (announced) {
                log.info("event=pool_exhaustion_end pool={} duration_ms={} peak_waiting={}", key, millis, peakWaiting);
                events.add(key.toString(), "pool_exhausted", "end after " + millis + " ms, peak " + peakWaiting
                        + " waiting");
            }
            inEpisode = false;
        }
    }
}
