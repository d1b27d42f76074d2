package io.pgwarden.frontend;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connections that have not proven a password yet, counted in total and per source address. Anyone can open
 * them, so without a cap of their own a few silent sockets fill {@code listen.max_client_connections} and lock
 * real users out for the whole login timeout; with it, an anonymous flood holds at most this many slots.
 */
public final class PendingLogins {

    private static final Logger log = LoggerFactory.getLogger(PendingLogins.class);
    /** One warning per this interval at most: a flood must not turn into a flood of log lines. */
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

    private final IntSupplier max;
    private final IntSupplier maxPerAddress;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);
    private final AtomicLong refusedSinceLog = new AtomicLong();

    /** The limits are read at each connection, so a reload applies to the next one. */
    public PendingLogins(IntSupplier max, IntSupplier maxPerAddress) {
        this.max = max;
        this.maxPerAddress = maxPerAddress;
    }

    /**
     * Counts a new connection in, or says which limit it is over (and counts nothing).
     *
     * @return null when admitted, else the config key whose limit is reached, for the refusal
     */
    String tryAdmit(SocketAddress remote) {
        InetAddress address = addressOf(remote);
        if (total.incrementAndGet() > max.getAsInt()) {
            total.decrementAndGet();
            return refused(remote, "listen.max_pending_logins", max.getAsInt());
        }
        if (address != null) {
            int limit = maxPerAddress.getAsInt();
            boolean[] over = new boolean[1];
            // Under compute, the check and the increment are one step: two loops cannot both take the last slot.
            perAddress.compute(address, (a, count) -> {
                int now = count == null ? 0 : count;
                over[0] = now >= limit;
                return over[0] ? count : Integer.valueOf(now + 1);
            });
            if (over[0]) {
                total.decrementAndGet();
                return refused(remote, "listen.max_pending_logins_per_address", limit);
            }
        }
        return null;
    }

    /** The connection logged in or closed; called once for each admitted connection. */
    void leave(SocketAddress remote) {
        total.decrementAndGet();
        InetAddress address = addressOf(remote);
        if (address != null) {
            release(address);
        }
    }

    /** With the limits of {@code listen:} in the configuration in force. */
    public static PendingLogins configuredBy(FrontendContext context) {
        return new PendingLogins(() -> context.proxy().config().listen().maxPendingLogins(),
                () -> context.proxy().config().listen().maxPendingLoginsPerAddress());
    }

    /** Connections now counted, for tests and metrics. */
    public int count() {
        return total.get();
    }

    private void release(InetAddress address) {
        // Removing at zero keeps the map as small as the addresses currently logging in, not all ever seen.
        perAddress.computeIfPresent(address, (a, count) -> count <= 1 ? null : count - 1);
    }

    private String refused(SocketAddress remote, String key, int limit) {
        long refused = refusedSinceLog.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLog.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLog.compareAndSet(last, now)) {
            refusedSinceLog.addAndGet(-refused);
            log.warn("event=client_refused addr={} reason=\"{} ({}) reached\" refused_since_last_warning={}",
                    remote, key, limit, refused);
        }
        return key;
    }

    private static InetAddress addressOf(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }
}
