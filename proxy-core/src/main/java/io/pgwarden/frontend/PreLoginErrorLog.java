package io.pgwarden.frontend;

import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.ErrorResponse;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs why a connection was refused before its authentication began (garbage where a startup packet should be, a
 * repeated SSLRequest, an unsupported protocol version, too many clients): the session writes its close line only
 * once it has a user, so without this such connections would leave no trace. One line per connection, but at
 * most one per source address per window, the next line saying how many were left out: a scanner or a flood of
 * junk connections would otherwise fill the log at whatever rate it likes.
 */
public final class PreLoginErrorLog {

    static final Duration WINDOW = Duration.ofSeconds(10);
    /** Enough for every address that misbehaves at once in practice; beyond it the oldest windows are forgotten. */
    static final int MAX_ADDRESSES = 10_000;

    private static final Logger log = LoggerFactory.getLogger(PreLoginErrorLog.class);

    private final LongSupplier nanoClock;
    private final long windowNanos;
    /** In the order the windows began, so the eldest is the one to forget. */
    private final Map<Object, Window> windows = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Window> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    public PreLoginErrorLog() {
        this(WINDOW, System::nanoTime);
    }

    PreLoginErrorLog(Duration window, LongSupplier nanoClock) {
        this.windowNanos = window.toNanos();
        this.nanoClock = nanoClock;
    }

    /** Logs the FATAL client {@code id} is closed with, unless its address had a line within the window. */
    public void report(long id, SocketAddress address, ErrorResponse error) {
        long suppressed = admit(address);
        if (suppressed >= 0) {
            log.info("event=startup_refused client={} addr={} reason={} suppressed={}", id, address,
                    LogValues.quote(error.sqlstate() + " " + error.message()), suppressed);
        }
    }

    /** -1 if a line for this address is left out now, else how many were left out since its last line. */
    synchronized long admit(SocketAddress address) {
        // The port changes with every connection; the host is who is sending.
        Object key = address instanceof InetSocketAddress inet && inet.getAddress() != null ? inet.getAddress()
                : "local";
        long now = nanoClock.getAsLong();
        Window window = windows.get(key);
        if (window != null && now - window.start < windowNanos) {
            window.suppressed++;
            return -1;
        }
        long suppressed = window != null ? window.suppressed : 0;
        // Removed and put back, so the map stays in the order the windows began.
        windows.remove(key);
        windows.put(key, new Window(now));
        return suppressed;
    }

    private static final class Window {
        final long start;
        long suppressed;

        Window(long start) {
            this.start = start;
        }
    }
}
