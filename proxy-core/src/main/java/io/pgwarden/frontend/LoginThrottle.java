package io.pgwarden.frontend;

import io.pgwarden.config.LoginThrottleConfig;
import io.pgwarden.metrics.ProxyMetrics;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Slows password guessing ({@code listen.login_throttle}): once an address has failed {@code failures} logins in
 * one window, each further login from it is held for a delay before pgwarden answers it, whether it would succeed
 * or fail (a fast success would tell the guesser it guessed right). The delay starts at 100 ms and doubles with
 * every further failure up to {@code max_delay}; the window starts at an address's first failure, and its end
 * forgets the address. The caller schedules the delay on its event loop; nothing here waits.
 */
public final class LoginThrottle {

    /** About 100 bytes an address: a million bytes at most, however many addresses fail. */
    static final int MAX_ADDRESSES = 10_000;
    private static final long FIRST_DELAY_NANOS = 100_000_000L;
    /** An IPv6 host picks any address of its /64 at will, so the /64 is the unit of one guesser. */
    private static final int IPV6_PREFIX_BYTES = 8;

    private static final Logger log = LoggerFactory.getLogger(LoginThrottle.class);

    private static final class Failures {
        final long windowStart;
        int count;

        Failures(long windowStart) {
            this.windowStart = windowStart;
        }
    }

    private final Supplier<LoginThrottleConfig> settings;
    private final ProxyMetrics metrics;
    private final LongSupplier nanoClock;
    /** In the order addresses last failed, so the eldest forgotten is the one quiet longest. */
    private final Map<InetAddress, Failures> table = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Failures> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    /** @param settings read at each login, so a RELOAD applies to the next one */
    public LoginThrottle(Supplier<LoginThrottleConfig> settings, ProxyMetrics metrics, LongSupplier nanoClock) {
        this.settings = settings;
        this.metrics = metrics;
        this.nanoClock = nanoClock;
    }

    /** With {@code listen.login_throttle} of the configuration in force, on the system clock. */
    public static LoginThrottle configuredBy(FrontendContext context) {
        return new LoginThrottle(() -> context.proxy().config().listen().loginThrottle(), context.proxy().metrics(),
                System::nanoTime);
    }

    /** How long to hold a login from {@code remote} before answering it; 0 when its address is not throttled. */
    public long delayNanos(SocketAddress remote) {
        LoginThrottleConfig config = settings.get();
        InetAddress key = key(remote);
        if (!config.enabled() || key == null) {
            return 0;
        }
        int over;
        synchronized (this) {
            Failures failures = table.get(key);
            if (failures == null) {
                return 0;
            }
            if (expired(failures, config)) {
                table.remove(key);
                return 0;
            }
            over = failures.count - config.failures();
        }
        if (over < 0) {
            return 0;
        }
        if (metrics != null) {
            metrics.loginThrottled();
        }
        return Math.min(config.maxDelay().toNanos(), FIRST_DELAY_NANOS << Math.min(over, 20));
    }

    /** A login from {@code remote} failed: a wrong password, an unknown user, a certificate refused. */
    public void failed(SocketAddress remote) {
        if (metrics != null) {
            metrics.loginFailed();
        }
        LoginThrottleConfig config = settings.get();
        InetAddress key = key(remote);
        if (!config.enabled() || key == null) {
            return;
        }
        int count;
        long windowStart;
        synchronized (this) {
            Failures failures = table.get(key);
            if (failures == null || expired(failures, config)) {
                failures = new Failures(nanoClock.getAsLong());
                table.put(key, failures);
            }
            count = ++failures.count;
            windowStart = failures.windowStart;
        }
        if (count == config.failures()) {
            // Once per window: the line marks the start, the metric counts the attempts.
            long leftMillis = Math.max(0, (windowStart + config.window().toNanos() - nanoClock.getAsLong()) / 1_000_000);
            log.warn("event=login_throttled addr={} failures={} window={} detail=\"further logins from this address"
                    + " are answered after a delay of up to {} for the next {} ms\"", key.getHostAddress(), count,
                    config.window(), config.maxDelay(), leftMillis);
        }
    }

    /** Addresses now remembered, for tests. */
    synchronized int size() {
        return table.size();
    }

    private boolean expired(Failures failures, LoginThrottleConfig config) {
        return nanoClock.getAsLong() - failures.windowStart >= config.window().toNanos();
    }

    private static InetAddress key(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return null;
        }
        InetAddress address = inet.getAddress();
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] network = Arrays.copyOf(Arrays.copyOf(address.getAddress(), IPV6_PREFIX_BYTES), 16);
        try {
            return InetAddress.getByAddress(network);
        } catch (UnknownHostException e) {
            return address;
        }
    }
}
