package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.session.ClientState;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.jdbc.PgStatement;

/**
 * A client's cancel connection closes only once PostgreSQL has the cancel: libpq and pgjdbc take the close as
 * delivery and go on with their next query, which a cancel still on its way would hit.
 */
class CancelDeliveryTest {

    @Test
    void theCancelConnectionStaysOpenUntilPostgresHasTheCancel() throws Exception {
        try (FaultRelay relay = FaultRelay.start("127.0.0.1", TestPostgres.shared().port());
             TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1", "", relay.port(), "");
             RawClient client = new RawClient(proxy.port())) {
            client.query("SELECT pg_sleep(30)");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sleepingBackends() == 1);
            // PostgreSQL is slow to take the cancel connection pgwarden opens for this client's cancel.
            relay.holdNewConnections();
            try (Socket cancel = new Socket("127.0.0.1", proxy.port())) {
                cancel.getOutputStream().write(client.cancelRequest());
                cancel.getOutputStream().flush();
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> relay.heldConnections() == 1);
                InputStream in = cancel.getInputStream();
                cancel.setSoTimeout(500);
                assertThatThrownBy(in::read).as("closed before PostgreSQL has the cancel")
                        .isInstanceOf(SocketTimeoutException.class);
                assertThat(sleepingBackends()).as("the query still runs").isEqualTo(1);

                relay.releaseHeldConnections();
                cancel.setSoTimeout(5_000);
                assertThat(in.read()).as("closed once PostgreSQL has acted on the cancel").isEqualTo(-1);
            }
            assertThat(new String(client.expect('E'), StandardCharsets.UTF_8)).contains("57014");
            client.expect('Z');
        }
    }

    @Test
    void aCancelThatArrivesAfterItsQueryEndedCannotHitTheNextClientOfThatBackend() throws Exception {
        try (FaultRelay relay = FaultRelay.start("127.0.0.1", TestPostgres.shared().port());
             TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1", "", relay.port(), "");
             RawClient first = new RawClient(proxy.port()); RawClient next = new RawClient(proxy.port())) {
            first.query("SELECT pg_sleep(2)");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backendsRunning("SELECT pg_sleep(2)") == 1);
            relay.holdNewConnections();
            try (Socket cancel = new Socket("127.0.0.1", proxy.port())) {
                cancel.getOutputStream().write(first.cancelRequest());
                cancel.getOutputStream().flush();
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> relay.heldConnections() == 1);
                first.expect('Z'); // its query ended before PostgreSQL had the cancel
                next.query("SELECT 'untouched', pg_sleep(0.5)");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backendsRunning("SELECT 'untouched'%") == 1
                        || proxy.application().context().sessions().all().stream()
                                .anyMatch(c -> c.state() == ClientState.WAITING));
                relay.releaseHeldConnections();
                cancel.setSoTimeout(5_000);
                assertThat(cancel.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(new String(next.expect('D'), StandardCharsets.UTF_8)).as("the next client's query was not "
                    + "cancelled").contains("untouched");
            next.expect('Z');
        }
    }

    @Test
    void aStatementCancelledWhileItWaitsForABackendFailsAt57014AndNeverRuns() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1\nquery_wait_timeout: 30s");
             Connection holder = proxy.connect(); Connection waiter = proxy.connect();
             Statement s = waiter.createStatement()) {
            s.execute("DROP TABLE IF EXISTS cancelled_while_waiting");
            s.execute("CREATE TABLE cancelled_while_waiting (id int)");
            holder.setAutoCommit(false);
            try (Statement h = holder.createStatement()) {
                h.execute("SELECT 1"); // holds the only backend
            }
            CompletableFuture<SQLException> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    s.execute("INSERT INTO cancelled_while_waiting VALUES (1)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> proxy.application().context().sessions()
                    .all().stream().anyMatch(c -> c.state() == ClientState.WAITING));
            s.cancel();
            SQLException e = outcome.get(5, TimeUnit.SECONDS);
            assertThat((Throwable) e).as("the waiting statement was cancelled, as it would have been running "
                    + "directly").isNotNull();
            assertThat(e.getSQLState()).isEqualTo("57014");
            holder.commit();
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM cancelled_while_waiting")) {
                rs.next();
                assertThat(rs.getInt(1)).as("the cancelled INSERT never ran").isZero();
            }
            s.execute("DROP TABLE cancelled_while_waiting");
        }
    }

    @Test
    void aServerThatNeverClosesTheCancelConnectionHoldsTheClientsForAFewSecondsOnly() throws Exception {
        try (FaultRelay relay = FaultRelay.start("127.0.0.1", TestPostgres.shared().port());
             TestProxy proxy = TestProxy.start("pool_mode: session", "", relay.port(), "");
             RawClient client = new RawClient(proxy.port())) {
            client.query("SELECT pg_sleep(30)");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sleepingBackends() == 1);
            relay.holdNewConnections();
            try (Socket cancel = new Socket("127.0.0.1", proxy.port())) {
                cancel.setSoTimeout(15_000);
                cancel.getOutputStream().write(client.cancelRequest());
                cancel.getOutputStream().flush();
                long started = System.nanoTime();
                assertThat(cancel.getInputStream().read()).isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
            }
            relay.releaseHeldConnections();
        }
    }

    /**
     * A query timeout that fires as the query ends sends a cancel the query no longer needs; pgjdbc waits for its
     * cancel connection to close before the next statement, and that statement must not be the one cancelled.
     */
    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void aLateQueryTimeoutCancelNeverHitsTheNextStatement(String mode) throws Exception {
        try (FaultRelay relay = FaultRelay.start("127.0.0.1", TestPostgres.shared().port());
             TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1", "", relay.port(), "");
             Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            // Every cancel takes 100 ms to reach PostgreSQL: longer than the query it was meant for has left.
            relay.delayNewConnections(Duration.ofMillis(100));
            int timedOut = 0;
            int relayedBefore = relay.relayedConnections();
            for (int i = 0; i < 30; i++) {
                s.unwrap(PgStatement.class).setQueryTimeoutMs(40);
                try {
                    s.execute("SELECT pg_sleep(0.04)");
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).isEqualTo("57014");
                    timedOut++;
                }
                s.setQueryTimeout(0);
                try (ResultSet rs = s.executeQuery("SELECT 'next', pg_sleep(0.15)")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("next");
                } catch (SQLException e) {
                    throw new AssertionError("iteration " + i + ": the statement after a timed-out one was hit by "
                            + "its cancel (" + timedOut + " timed out so far)", e);
                }
            }
            assertThat(relay.relayedConnections() - relayedBefore).as("cancels sent by timeouts that fired while "
                    + "their query still ran").isPositive();
        }
    }

    private static int sleepingBackends() throws SQLException {
        return backendsRunning("SELECT pg_sleep(30)");
    }

    private static int backendsRunning(String queryLike) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE query LIKE '" + queryLike.replace("'", "''") + "' AND state = 'active'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
