package io.pgwarden.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PreLoginErrorLogTest {

    private final AtomicLong now = new AtomicLong();
    private final PreLoginErrorLog log = new PreLoginErrorLog(Duration.ofSeconds(10), now::get);

    @Test
    void oneLinePerAddressPerWindowAndTheNextSaysHowManyWereLeftOut() {
        InetSocketAddress a = new InetSocketAddress("10.0.0.1", 40001);
        assertThat(log.admit(a)).isZero();
        at(1_000);
        assertThat(log.admit(new InetSocketAddress("10.0.0.1", 40002))).as("another port, same host").isEqualTo(-1);
        assertThat(log.admit(new InetSocketAddress("10.0.0.2", 40003))).as("another host").isZero();
        at(9_999);
        assertThat(log.admit(a)).isEqualTo(-1);
        at(10_000);
        assertThat(log.admit(a)).as("a new window reports the two left out").isEqualTo(2);
        at(12_000);
        assertThat(log.admit(a)).isEqualTo(-1);
        at(30_000);
        assertThat(log.admit(a)).isEqualTo(1);
        assertThat(log.admit(a)).isEqualTo(-1);
    }

    @Test
    void theOldestAddressesAreForgottenBeyondTheBound() {
        for (int i = 0; i <= PreLoginErrorLog.MAX_ADDRESSES; i++) {
            assertThat(log.admit(new InetSocketAddress("10.1." + (i >> 8) + "." + (i & 0xff), 5000))).isZero();
        }
        assertThat(log.admit(new InetSocketAddress("10.1.0.0", 5000))).as("the first was forgotten").isZero();
        assertThat(log.admit(new InetSocketAddress("10.1.0.5", 5000))).as("later ones are still limited")
                .isEqualTo(-1);
    }

    private void at(long millis) {
        now.set(TimeUnit.MILLISECONDS.toNanos(millis));
    }
}
