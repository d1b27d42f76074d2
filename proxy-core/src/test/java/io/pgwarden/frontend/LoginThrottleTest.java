package io.pgwarden.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.LoginThrottleConfig;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgwarden.metrics.ProxyMetrics;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The delay an address earns by failing logins: when it starts, how it grows, when it ends, what it costs. */
class LoginThrottleTest {

    private static final long MS = 1_000_000L;
    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final ProxyMetrics metrics = new ProxyMetrics(List::of, Map::of);
    private final LoginThrottle throttle = new LoginThrottle(
            () -> new LoginThrottleConfig(3, Duration.ofSeconds(60), Duration.ofMillis(500)), metrics, now::get);

    private static InetSocketAddress from(String host) {
        return new InetSocketAddress(host, 40000);
    }

    private void fail(String host, int times) {
        for (int i = 0; i < times; i++) {
            throttle.failed(from(host));
        }
    }

    @Test
    void anAddressIsSlowedOnceItHasFailedTheLimitThenEachFailureDoublesTheDelayUpToTheCap() {
        fail("10.0.0.1", 2);
        assertThat(throttle.delayNanos(from("10.0.0.1"))).as("below the limit").isZero();
        fail("10.0.0.1", 1);
        assertThat(throttle.delayNanos(from("10.0.0.1"))).isEqualTo(100 * MS);
        fail("10.0.0.1", 1);
        assertThat(throttle.delayNanos(from("10.0.0.1"))).isEqualTo(200 * MS);
        fail("10.0.0.1", 1);
        assertThat(throttle.delayNanos(from("10.0.0.1"))).isEqualTo(400 * MS);
        fail("10.0.0.1", 50);
        assertThat(throttle.delayNanos(from("10.0.0.1"))).as("capped at max_delay").isEqualTo(500 * MS);
        assertThat(throttle.delayNanos(from("10.0.0.2"))).as("another address").isZero();
    }

    @Test
    void theWindowsEndForgetsTheAddress() {
        fail("10.0.0.1", 5);
        now.addAndGet(59_999 * MS);
        assertThat(throttle.delayNanos(from("10.0.0.1"))).isPositive();
        now.addAndGet(MS);
        assertThat(throttle.delayNanos(from("10.0.0.1"))).isZero();
        assertThat(throttle.size()).isZero();
    }

    @Test
    void startingToThrottleIsLoggedOncePerWindowAndCounted() {
        Logger logger = (Logger) LoggerFactory.getLogger(LoginThrottle.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            fail("10.0.0.1", 10);
            assertThat(log.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).asString()
                    .startsWith("event=login_throttled addr=10.0.0.1 failures=3 window=PT1M");
            now.addAndGet(61_000 * MS);
            fail("10.0.0.1", 3);
            assertThat(log.list).hasSize(2);
        } finally {
            logger.detachAppender(log);
        }
        throttle.delayNanos(from("10.0.0.1"));
        assertThat(counter("pgwarden_login_failures_total")).isEqualTo(13);
        assertThat(counter("pgwarden_login_throttled_total")).isEqualTo(1);
    }

    @Test
    void theTableIsBoundedAndIpv6AddressesCountPerSlash64() {
        for (int i = 0; i < LoginThrottle.MAX_ADDRESSES + 500; i++) {
            throttle.failed(from("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255)));
        }
        assertThat(throttle.size()).isEqualTo(LoginThrottle.MAX_ADDRESSES);
        fail("2001:db8:0:1::1", 2);
        fail("2001:db8:0:1:ffff::7", 1);
        assertThat(throttle.delayNanos(from("2001:db8:0:1::99"))).isEqualTo(100 * MS);
        assertThat(throttle.delayNanos(from("2001:db8:0:2::1"))).isZero();
    }

    @Test
    void zeroFailuresSwitchesItOff() {
        LoginThrottle off = new LoginThrottle(
                () -> new LoginThrottleConfig(0, Duration.ofSeconds(60), Duration.ofMillis(500)), metrics, now::get);
        for (int i = 0; i < 100; i++) {
            off.failed(from("10.0.0.1"));
        }
        assertThat(off.delayNanos(from("10.0.0.1"))).isZero();
        assertThat(off.size()).isZero();
    }

    private double counter(String name) {
        return metrics.registry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals(name.replace("_total", "")))
                .findFirst().orElseThrow()
                .getDataPoints().stream().mapToDouble(p -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot
                        .CounterDataPointSnapshot) p).getValue()).sum();
    }
}
