package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** Issue 3: notifications, notices and session settings behave as on a direct connection, in both modes. */
class SessionFeaturesTest {

    @Test
    void listenNotifyInSessionModeDeliversTheNotification() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: session\nmax_size: 3");
             Connection listener = proxy.connect(); Connection sender = proxy.connect()) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN pgwarden_channel");
            }
            try (Statement s = sender.createStatement()) {
                s.execute("NOTIFY pgwarden_channel, 'hello'");
            }
            PGNotification[] received = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(received).hasSize(1);
            assertThat(received[0].getName()).isEqualTo("pgwarden_channel");
            assertThat(received[0].getParameter()).isEqualTo("hello");
        }
    }

    @Test
    void noticesReachTheClient() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction");
             Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN RAISE NOTICE 'from the server %', 42; END $$");
            assertThat((Object) s.getWarnings()).isNotNull();
            assertThat(s.getWarnings().getMessage()).contains("from the server 42");
        }
    }

    @Test
    void settingsMadeOutsideATransactionFollowTheClientAcrossBackendsAndStayItsOwn() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2");
             Connection mine = proxy.connect(); Connection other = proxy.connect()) {
            String othersZone = single(other, "SHOW TimeZone");
            try (Statement s = mine.createStatement()) {
                s.execute("SET TimeZone = 'America/New_York'");
                s.execute("SET search_path = pg_catalog, public");
                s.execute("SET statement_timeout = '4321ms'");
                s.execute("SET application_name = 'mine'");
            }
            java.util.Set<String> backendsSeen = new java.util.HashSet<>();
            for (int i = 0; i < 20; i++) {
                // A transaction held by the other client pushes mine onto the second backend every other round.
                other.setAutoCommit(i % 2 == 1);
                try (Statement hold = other.createStatement()) {
                    hold.execute("SELECT 1");
                }
                backendsSeen.add(single(mine, "SELECT pg_backend_pid()::text"));
                assertThat(single(mine, "SHOW TimeZone")).isEqualTo("America/New_York");
                assertThat(single(mine, "SHOW search_path")).isEqualTo("pg_catalog, public");
                assertThat(single(mine, "SHOW statement_timeout")).isEqualTo("4321ms");
                assertThat(single(mine, "SHOW application_name")).isEqualTo("mine");
                if (!other.getAutoCommit()) {
                    other.commit();
                }
                assertThat(single(other, "SHOW TimeZone")).isEqualTo(othersZone);
                assertThat(single(other, "SHOW statement_timeout")).isEqualTo("0");
            }
            assertThat(backendsSeen).as("the client was served by both backends").hasSize(2);
        }
    }

    @Test
    void startupParametersTakeEffectInBothModes() throws Exception {
        for (String mode : new String[] {"session", "transaction"}) {
            try (TestProxy proxy = TestProxy.start("pool_mode: " + mode)) {
                Properties props = new Properties();
                props.setProperty("ApplicationName", "startup-app");
                props.setProperty("currentSchema", "pg_catalog");
                try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, props)) {
                    assertThat(single(c, "SHOW application_name")).as(mode).isEqualTo("startup-app");
                    assertThat(single(c, "SHOW search_path")).as(mode).isEqualTo("pg_catalog");
                }
            }
        }
    }

    @Test
    void aRoleSetByTheSecondStatementOfOneQueryPinsTheClientAndNeverReachesTheNextClient() throws Exception {
        createRoleAppMayBecome("pin_target");
        Properties simple = new Properties();
        // One Query message for the whole text, as psql or libpq's PQexec would send it.
        simple.setProperty("preferQueryMode", "simple");
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1")) {
            try (Connection a = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, simple)) {
                try (Statement s = a.createStatement()) {
                    s.execute("SELECT 1; SET ROLE pin_target");
                    SQLWarning warning = s.getWarnings();
                    assertThat((Object) warning).isNotNull();
                    assertThat(warning.getMessage()).contains("keeps its server connection").contains("SET ROLE");
                }
                assertThat(single(a, "SELECT current_user")).as("the role stays the client's own")
                        .isEqualTo("pin_target");
            }
            // The only backend: the one the role was set on.
            try (Connection b = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, simple)) {
                assertThat(single(b, "SELECT current_user")).isEqualTo("app");
            }
        }
    }

    @Test
    void aLiteralThatSpellsTemporaryLeavesASessionModeSessionRestorable() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: session\nmax_size: 2"); Connection c = proxy.connect()) {
            assertThat(single(c, "SELECT 'temporary' /* LISTEN, pg_advisory_lock */ -- SET ROLE x"))
                    .isEqualTo("temporary");
            String lost = single(c, "SELECT pg_backend_pid()::text");
            try (Connection su = TestPostgres.shared().superuser(); Statement s = su.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + lost + ")");
            }
            // The first statement after the loss may still reach the dying backend and fail; the client stays.
            Awaitility.await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                    .until(() -> !single(c, "SELECT pg_backend_pid()::text").equals(lost));
            assertThat(c.isClosed()).isFalse();
            assertThat(single(c, "SELECT 'still here'")).isEqualTo("still here");
        }
    }

    /** Tests share one server: the role is made once, and {@code app} may SET ROLE to it. */
    private static void createRoleAppMayBecome(String role) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + role + "') THEN "
                    + "CREATE ROLE " + role + "; END IF; END $$");
            s.execute("GRANT " + role + " TO app");
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
