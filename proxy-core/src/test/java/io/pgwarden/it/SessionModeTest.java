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

    private static String single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
