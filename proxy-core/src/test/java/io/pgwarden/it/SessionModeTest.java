package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** Acceptance 3: session state lives exactly as long as the client's connection. */
class SessionModeTest {

    @Test
    void sessionStateSurvivesTheSessionAndNeverReachesTheNextClient() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: session\nmax_size: 1")) {
            int firstPid;
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("SET statement_timeout = '12345ms'");
                s.execute("CREATE TEMP TABLE scratch (v int)");
                s.execute("INSERT INTO scratch VALUES (42)");
                s.execute("SELECT pg_advisory_lock(777)");
                // Several transactions later, the session still has its setting and its table.
                for (int i = 0; i < 3; i++) {
                    c.setAutoCommit(false);
                    s.execute("SELECT 1");
                    c.commit();
                    c.setAutoCommit(true);
                }
                assertThat(single(s, "SHOW statement_timeout")).isEqualTo("12345ms");
                assertThat(single(s, "SELECT v::text FROM scratch")).isEqualTo("42");
                firstPid = Integer.parseInt(single(s, "SELECT pg_backend_pid()::text"));
            }
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                assertThat(Integer.parseInt(single(s, "SELECT pg_backend_pid()::text")))
                        .as("max_size 1: the second client gets the same backend").isEqualTo(firstPid);
                assertThat(single(s, "SHOW statement_timeout")).isEqualTo("0");
                assertThat(single(s, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'scratch'"))
                        .isEqualTo("0");
                assertThat(single(s, "SELECT pg_try_advisory_lock(777)::text")).isEqualTo("true");
            }
        }
    }

    /**
     * A client's pooling mode is fixed at its login: a RELOAD that turns its database to transaction mode must not
     * let its session state (a temporary table, a role, an advisory lock) reach the next client of its backend.
     */
    @Test
    void aReloadToTransactionModeStillResetsTheBackendOfASessionModeClient() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> mode = new java.util.concurrent.atomic.AtomicReference<>("session");
        try (TestProxy proxy = TestProxy.fromYaml(() -> """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  pool_mode: %s
                  max_size: 1
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
                """.formatted(mode.get()), TestPostgres.shared().port())) {
            int firstPid;
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE left_behind (v int)");
                s.execute("SELECT pg_advisory_lock(778)");
                s.execute("SET statement_timeout = '23456ms'");
                firstPid = Integer.parseInt(single(s, "SELECT pg_backend_pid()::text"));
                mode.set("transaction");
                java.util.Properties simple = new java.util.Properties();
                simple.setProperty("preferQueryMode", "simple");
                try (Connection admin = proxy.connect("pgwarden", "admin", "admin-secret", simple)) {
                    admin.createStatement().execute("RELOAD");
                }
                assertThat(single(s, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'left_behind'"))
                        .as("the session-mode client keeps its session after the reload").isEqualTo("1");
            }
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                assertThat(Integer.parseInt(single(s, "SELECT pg_backend_pid()::text")))
                        .as("max_size 1: the next client gets the same backend").isEqualTo(firstPid);
                assertThat(single(s, "SELECT (to_regclass('pg_temp.left_behind') IS NULL)::text"))
                        .as("the last client's temporary table is gone").isEqualTo("true");
                assertThat(single(s, "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' "
                        + "AND pid = pg_backend_pid()")).as("its advisory lock is released").isEqualTo("0");
                assertThat(single(s, "SHOW statement_timeout")).isEqualTo("0");
                c.commit();
            }
        }
    }

    private static String single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
