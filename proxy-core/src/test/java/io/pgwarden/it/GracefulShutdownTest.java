package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: SHUTDOWN on the console drains (a client inside a transaction finishes it, an idle one gets 57P01, no
 * new client gets in, /ready says 503), SHUTDOWN IMMEDIATE stops at once, and listen.shutdown_timeout bounds it.
 */
class GracefulShutdownTest {

    private static final String TABLE = "graceful_shutdown_rows";

    @BeforeAll
    static void table() throws SQLException {
        try (Connection c = appdb(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigint PRIMARY KEY)");
            s.execute("GRANT ALL ON " + TABLE + " TO app");
        }
    }

    static Connection appdb() throws SQLException {
        return java.sql.DriverManager.getConnection(TestPostgres.shared().directUrl("appdb"), "postgres", "");
    }

    private static TestProxy start(String shutdownTimeout) {
        return start(() -> shutdownTimeout);
    }

    private static TestProxy start(Supplier<String> shutdownTimeout) {
        Supplier<String> yaml = () -> """
                listen:
                  host: 127.0.0.1
                  port: 0
                  worker_threads: 2
                  shutdown_timeout: %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                  admin:
                    password: admin-secret
                admin:
                  users: [admin]
                  http:
                    port: 0
                """.formatted(shutdownTimeout.get());
        return TestProxy.fromYaml(yaml, TestPostgres.shared().port());
    }

    private static void console(TestProxy proxy, String command) throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection admin = proxy.connect("pgwarden", "admin", "admin-secret", simple);
             Statement s = admin.createStatement()) {
            s.execute(command);
        } catch (SQLException e) {
            // The console's own connection is between transactions once answered: the drain closes it too.
            if (!"57P01".equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    private static CompletableFuture<Void> stopped(TestProxy proxy) {
        return CompletableFuture.runAsync(() -> {
            try {
                proxy.application().awaitStop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private static boolean refusesConnections(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static int readyStatus(TestProxy proxy) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + proxy.application().httpAddress().getPort() + "/ready"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }

    private static void insert(Connection c, long id) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO " + TABLE + " VALUES (" + id + ")");
        }
    }

    private static boolean stored(long id) throws SQLException {
        try (Connection c = appdb(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + TABLE + " WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }

    @Test
    void shutdownLetsAnOpenTransactionCommitAndClosesIdleClientsWith57P01() throws Exception {
        long base = System.nanoTime() & 0xFFFFFFFFFFL;
        try (TestProxy proxy = start("30s");
             Connection inTransaction = proxy.connect();
             Connection idle = proxy.connect()) {
            insert(idle, base);
            inTransaction.setAutoCommit(false);
            insert(inTransaction, base + 1);
            CompletableFuture<Void> stopped = stopped(proxy);

            console(proxy, "SHUTDOWN");

            assertThat(readyStatus(proxy)).isEqualTo(503);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> refusesConnections(proxy.port()));
            assertThatThrownBy(() -> insert(idle, base + 2)).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("57P01");
                assertThat(e.getMessage()).contains("pgwarden is shutting down");
            });
            // The transaction open at the SHUTDOWN goes on and commits; the client leaves at its next one.
            insert(inTransaction, base + 3);
            inTransaction.commit();
            assertThat(stopped).isNotDone();
            assertThatThrownBy(() -> insert(inTransaction, base + 4)).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("57P01"));
            stopped.get(10, TimeUnit.SECONDS);
        }
        assertThat(stored(base + 1)).isTrue();
        assertThat(stored(base + 3)).isTrue();
        assertThat(stored(base + 2)).isFalse();
        assertThat(stored(base + 4)).isFalse();
    }

    @Test
    void shutdownImmediateClosesAClientInsideItsTransaction() throws Exception {
        long base = System.nanoTime() & 0xFFFFFFFFFFL;
        try (TestProxy proxy = start("60s"); Connection inTransaction = proxy.connect()) {
            inTransaction.setAutoCommit(false);
            insert(inTransaction, base);
            CompletableFuture<Void> stopped = stopped(proxy);

            console(proxy, "SHUTDOWN IMMEDIATE");

            // Far sooner than the 60 s a drain would wait for that transaction.
            stopped.get(15, TimeUnit.SECONDS);
            assertThatThrownBy(() -> {
                insert(inTransaction, base + 1);
                inTransaction.commit();
            }).isInstanceOf(SQLException.class);
        }
        assertThat(stored(base)).isFalse();
    }

    @Test
    void aTransactionStillOpenAtShutdownTimeoutIsRolledBackWith57P01() throws Exception {
        long base = System.nanoTime() & 0xFFFFFFFFFFL;
        try (TestProxy proxy = start("1s")) {
            Connection inTransaction = proxy.connect();
            inTransaction.setAutoCommit(false);
            insert(inTransaction, base);
            CompletableFuture<Void> stopped = stopped(proxy);
            long begun = System.nanoTime();

            console(proxy, "SHUTDOWN");

            stopped.get(10, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begun)).isGreaterThanOrEqualTo(900);
            assertThatThrownBy(inTransaction::commit).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("57P01"));
            // The process is gone by now: the driver's Terminate finds no socket, as after a PostgreSQL stop.
            try {
                inTransaction.close();
            } catch (SQLException expected) {
                assertThat(expected.getMessage()).contains("close");
            }
        }
        assertThat(stored(base)).isFalse();
    }

    @Test
    void aReloadedShutdownTimeoutIsTheOneTheStopWaits() throws Exception {
        AtomicReference<String> timeout = new AtomicReference<>("120s");
        try (TestProxy proxy = start(timeout::get)) {
            Connection inTransaction = proxy.connect();
            inTransaction.setAutoCommit(false);
            insert(inTransaction, System.nanoTime() & 0xFFFFFFFFFFL);
            timeout.set("1s");
            console(proxy, "RELOAD");
            CompletableFuture<Void> stopped = stopped(proxy);

            console(proxy, "SHUTDOWN");

            stopped.get(15, TimeUnit.SECONDS);
            try {
                inTransaction.close();
            } catch (SQLException expected) {
                assertThat(expected.getMessage()).contains("close");
            }
        }
    }

    @Test
    void shutdownWithAnUnknownArgumentIsRefused() throws Exception {
        try (TestProxy proxy = start("30s")) {
            assertThatThrownBy(() -> console(proxy, "SHUTDOWN NOW")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42601"));
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                assertThat(s.execute("SELECT 1")).isTrue();
            }
        }
    }
}
