package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.pool.BackendPool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** What the admin console's RELOAD and RECONNECT do to pools and their backends. */
class ReloadTest {

    private static String yaml(boolean withAppdb) {
        String appdb = """
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                    min_size: 2
                """;
        return """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  pool_mode: transaction
                databases:
                %s  other:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                    dbname: postgres
                users:
                  app:
                    password: ${APP_PASSWORD}
                # Another user would get a min_size pool of its own on appdb.
                admin:
                  users: [app]
                """.formatted(withAppdb ? appdb : "");
    }

    /** Long enough for a dozen janitor rounds, run by {@link #countAfterJanitor} each time it is polled. */
    private static final Duration SEVERAL_JANITOR_ROUNDS = Duration.ofMillis(1_200);

    @Test
    void aRemovedDatabaseDrainsWithoutRefillingAndComesBackWhenReAdded() throws Exception {
        AtomicBoolean appdbConfigured = new AtomicBoolean(true);
        TestPostgres pg = TestPostgres.shared();
        Timestamp since = pg.clock();
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml(appdbConfigured.get()), pg.port());
             Connection admin = admin(proxy); Connection idleClient = proxy.connect();
             Connection inTransaction = proxy.connect()) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pg.backendsSince(since, "app") == 2);
            BackendPool pool = proxy.application().pools().pools().stream()
                    .filter(p -> p.key().database().equals("appdb")).findFirst().orElseThrow();
            assertThat(value(idleClient, "SELECT 1")).isEqualTo("1");
            inTransaction.setAutoCommit(false);
            String heldPid = value(inTransaction, "SELECT pg_backend_pid()::text");

            appdbConfigured.set(false);
            admin.createStatement().execute("RELOAD");

            // The idle backend closes, and nothing reopens to min_size: only the one in a transaction is left.
            Awaitility.await().atMost(Duration.ofSeconds(10)).during(SEVERAL_JANITOR_ROUNDS)
                    .until(() -> countAfterJanitor(pool, pg, since) == 1);
            assertThatThrownBy(() -> proxy.connect())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("3D000"));

            // Clients connected before the reload keep working until they leave ...
            assertThat(value(inTransaction, "SELECT pg_backend_pid()::text")).isEqualTo(heldPid);
            inTransaction.commit();
            assertThat(value(idleClient, "SELECT 2")).isEqualTo("2");
            // ... and the backends they give back close instead of going idle.
            Awaitility.await().atMost(Duration.ofSeconds(10)).during(SEVERAL_JANITOR_ROUNDS)
                    .until(() -> countAfterJanitor(pool, pg, since) == 0);
            assertThat(value(inTransaction, "SELECT 3")).isEqualTo("3");
            inTransaction.commit();
            Awaitility.await().atMost(Duration.ofSeconds(10)).during(SEVERAL_JANITOR_ROUNDS)
                    .until(() -> countAfterJanitor(pool, pg, since) == 0);

            appdbConfigured.set(true);
            admin.createStatement().execute("RELOAD");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pg.backendsSince(since, "app") == 2);
            try (Connection newcomer = proxy.connect()) {
                assertThat(value(newcomer, "SELECT 4")).isEqualTo("4");
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).during(SEVERAL_JANITOR_ROUNDS)
                    .until(() -> countAfterJanitor(pool, pg, since) == 2);
        }
    }

    @Test
    void reconnectReplacesIdleBackendsWithoutWaitingForAClient() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        Timestamp since = pg.clock();
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml(true), pg.port()); Connection admin = admin(proxy)) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pg.backendsSince(since, "app") == 2);
            Timestamp beforeReconnect = pg.clock();
            admin.createStatement().execute("RECONNECT");
            // Two new backends, and the two old ones gone.
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pg.backendsSince(beforeReconnect, "app") == 2
                    && pg.backendsSince(since, "app") == 2);
        }
    }

    /** The pool's janitor round, run now rather than waited for, then pgwarden's backends on appdb. */
    private static int countAfterJanitor(BackendPool pool, TestPostgres pg, Timestamp since) throws SQLException {
        pool.maintain();
        return pg.backendsSince(since, "app");
    }

    private static Connection admin(TestProxy proxy) throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return proxy.connect("pgwarden", "app", TestPostgres.APP_PASSWORD, simple);
    }

    private static String value(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
