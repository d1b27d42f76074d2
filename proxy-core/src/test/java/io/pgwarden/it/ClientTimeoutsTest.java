package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * client.idle_timeout and client.login_timeout, which the janitor enforces: idle clients only at its
 * once-a-second sweep, clients that are logging in at every 100 ms round.
 */
class ClientTimeoutsTest {

    @Test
    void aClientIdleLongerThanIdleTimeoutGets57P05WhileABusyOneCarriesOn() throws Exception {
        try (TestProxy proxy = TestProxy.start("""
                pool_mode: transaction
                client:
                  idle_timeout: 1500ms
                """); RawClient idle = new RawClient(proxy.port()); Connection busy = proxy.connect()) {
            long loggedIn = System.nanoTime();
            AtomicBoolean stop = new AtomicBoolean();
            // Never idle for more than a moment: a statement of 200 ms after another, for longer than the timeout.
            CompletableFuture<Integer> busyRuns = CompletableFuture.supplyAsync(() -> {
                int runs = 0;
                try (Statement s = busy.createStatement()) {
                    while (!stop.get() && runs < 200) {
                        s.execute("SELECT pg_sleep(0.2)");
                        runs++;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return runs;
            });

            String error = new String(idle.expect('E'), StandardCharsets.UTF_8);
            Duration idleFor = Duration.ofNanos(System.nanoTime() - loggedIn);
            stop.set(true);

            assertThat(error).contains("57P05").contains("client.idle_timeout 1500 ms");
            // A ReadyForQuery behind the FATAL, so that libpq keeps the FATAL as its next statement's answer.
            idle.expect('Z');
            assertThat(idle.atEnd()).as("the idle client's connection is closed").isTrue();
            // Not absurdly late; the exact deadline and the sweep's cadence (every tenth janitor round) are tested
            // without a clock in session.JanitorTimeoutsTest and session.ClientCloseReasonsTest.
            assertThat(idleFor).isGreaterThanOrEqualTo(Duration.ofMillis(1500)).isLessThan(Duration.ofSeconds(30));
            // Its loop ran from before the timeout until after the idle client's error: a busy client cut off by
            // the timeout would have failed it.
            assertThat(busyRuns.get(30, TimeUnit.SECONDS)).as("statements the busy client ran").isPositive();
            try (Statement s = busy.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void aConnectionThatNeverLogsInIsClosedAfterLoginTimeout() throws Exception {
        try (TestProxy proxy = TestProxy.start("""
                pool_mode: transaction
                client:
                  login_timeout: 500ms
                """); Socket silent = new Socket("127.0.0.1", proxy.port())) {
            silent.setSoTimeout(10_000);
            long connected = System.nanoTime();
            DataInputStream in = new DataInputStream(silent.getInputStream());

            byte type = in.readByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            Duration waited = Duration.ofNanos(System.nanoTime() - connected);

            assertThat((char) type).isEqualTo('E');
            assertThat(new String(body, StandardCharsets.UTF_8)).contains("08P01").contains("client.login_timeout");
            assertThat(in.read()).as("then the connection is closed").isEqualTo(-1);
            // Not absurdly late; the exact deadline is tested without a clock in session.JanitorTimeoutsTest.
            assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(500)).isLessThan(Duration.ofSeconds(30));
            try (Connection c = proxy.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).as("others still log in").isTrue();
            }
        }
    }

    /** A database's own client.login_timeout applies once the StartupMessage has named that database. */
    @Test
    void aPerDatabaseLoginTimeoutOverridesTheGlobalOne() throws Exception {
        try (TestProxy proxy = TestProxy.fromYaml(() -> """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  pool_mode: transaction
                  client:
                    login_timeout: 60s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                    client:
                      login_timeout: 500ms
                users:
                  app:
                    password: ${APP_PASSWORD}
                """, TestPostgres.shared().port()); Socket stalled = new Socket("127.0.0.1", proxy.port())) {
            stalled.setSoTimeout(20_000);
            long connected = System.nanoTime();
            StartupPacket.send(stalled.getOutputStream(), 196608, "user", "app", "database", "appdb");
            DataInputStream in = new DataInputStream(stalled.getInputStream());
            // The SASL request comes, and the client never answers it.
            assertThat((char) in.readByte()).isEqualTo('R');
            in.readFully(new byte[in.readInt() - 4]);

            byte type = in.readByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            Duration waited = Duration.ofNanos(System.nanoTime() - connected);

            assertThat((char) type).isEqualTo('E');
            assertThat(new String(body, StandardCharsets.UTF_8)).contains("08P01").contains("client.login_timeout")
                    .contains("500 ms");
            assertThat(in.read()).as("then the connection is closed").isEqualTo(-1);
            // Still well short of the global 60 s; which limit applies when, to the nanosecond, is tested without a
            // clock in session.JanitorTimeoutsTest.
            assertThat(waited).as("appdb's 500 ms, not the global 60 s").isLessThan(Duration.ofSeconds(30));
        }
    }
}
