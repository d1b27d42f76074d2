package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Each way a client connection ends is counted once, under its own reason. */
class ClientCloseReasonsTest {

    @Test
    void terminateAndAnIdleKillAreCountedUnderTheirReasons() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                client:
                  idle_timeout: 60s
                """)) {
            ScriptedClient leaving = proxy.login();
            ScriptedClient idle = proxy.login();

            leaving.send(Wire.terminate());
            assertThat(leaving.isOpen()).isFalse();
            assertThat(leaving.received()).isEmpty();
            assertThat(closes(proxy, "terminated")).isEqualTo(1.0);

            ClientSession session = idle.session();
            session.janitorTick(session.times.lastActivity + Duration.ofSeconds(60).toNanos());
            assertThat(idle.isOpen()).isTrue();
            session.janitorTick(session.times.lastActivity + Duration.ofSeconds(60).toNanos() + 1);
            assertThat(idle.received()).containsExactly(
                    "ErrorResponse(FATAL 57P05: terminating connection due to idle-session timeout (pgwarden "
                            + "client.idle_timeout 60000 ms))", "ReadyForQuery(I)");
            assertThat(idle.isOpen()).isFalse();
            assertThat(closes(proxy, "idle_timeout")).isEqualTo(1.0);
            assertThat(proxy.metric("pgwarden_timeouts_total{kind=\"client_idle\"}")).isEqualTo(1.0);

            assertThat(allCloses(proxy)).as("nothing else was counted").isEqualTo(2.0);
        }
    }

    @Test
    void aClientThatGoesAwayWithoutTerminateIsCountedAsDisconnected() {
        try (ProxyHarness proxy = ProxyHarness.start("pool_mode: transaction")) {
            proxy.login().disconnect();
            assertThat(closes(proxy, "disconnected")).isEqualTo(1.0);
            assertThat(allCloses(proxy)).isEqualTo(1.0);
        }
    }

    private static double closes(ProxyHarness proxy, String reason) {
        return proxy.metric("pgwarden_client_closes_total{reason=\"" + reason + "\"}");
    }

    private static double allCloses(ProxyHarness proxy) {
        return Arrays.stream(proxy.scrape().split("\n")).filter(l -> l.startsWith("pgwarden_client_closes_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
