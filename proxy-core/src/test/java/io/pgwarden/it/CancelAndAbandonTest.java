package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Acceptance 5 and 6: cancel reaches the right backend; an abandoned transaction never outlives its client. */
class CancelAndAbandonTest {

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void statementCancelEndsALongQueryWithin2Seconds(String mode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode); Connection c = proxy.connect();
             Statement s = c.createStatement()) {
            CompletableFuture<SQLException> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    s.execute("SELECT pg_sleep(30)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sleepingBackends() == 1);
            long started = System.nanoTime();
            s.cancel();
            SQLException e = outcome.get(2, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
            assertThat((Throwable) e).as("the sleeping query failed").isNotNull();
            assertThat(e.getSQLState()).isEqualTo("57014");
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).as("the connection stays usable after the cancel").isTrue();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void aClientThatVanishesMidTransactionReleasesItsLocksAndItsChangesAreLost(String mode) throws Exception {
        String table = "locked_" + mode;
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 2")) {
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + table);
                s.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");
                s.execute("INSERT INTO " + table + " VALUES (1, 'original')");
            }
            Connection quitter = proxy.connect();
            quitter.setAutoCommit(false);
            try (Statement s = quitter.createStatement()) {
                s.executeUpdate("UPDATE " + table + " SET v = 'uncommitted' WHERE id = 1");
            }
            // Abort the socket without Terminate, as a crashed process would.
            quitter.abort(Runnable::run);

            try (Connection other = proxy.connect(); Statement s = other.createStatement()) {
                s.execute("SET lock_timeout = '2s'");
                long started = System.nanoTime();
                assertThat(s.executeUpdate("UPDATE " + table + " SET v = 'second' WHERE id = 1")).isEqualTo(1);
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
                try (ResultSet rs = s.executeQuery("SELECT v FROM " + table + " WHERE id = 1")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("second");
                }
                s.execute("DROP TABLE " + table);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void aClientThatVanishesDuringALongQueryDoesNotKeepTheBackendBusy(String mode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1\nquery_wait_timeout: 10s")) {
            Connection quitter = proxy.connect();
            Statement sleeper = quitter.createStatement();
            CompletableFuture.runAsync(() -> {
                try {
                    sleeper.execute("SELECT pg_sleep(60)");
                } catch (SQLException expected) {
                    // the socket is aborted below
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sleepingBackends() == 1);
            quitter.abort(Runnable::run);
            try (Connection next = proxy.connect(); Statement s = next.createStatement();
                 ResultSet rs = s.executeQuery("SELECT 7")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(7);
            }
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sleepingBackends() == 0);
        }
    }

    private static int sleepingBackends() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active' AND usename = 'app'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

}
