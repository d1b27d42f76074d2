package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 14, item 6: a client that runs SET and leaves at once (psql -c "set ...") leaves while pgwarden's own
 * read-back of its settings is still in flight. That hidden work is let finish and the backend is reset and
 * reused, not cancelled and replaced; the next client sees none of the setting.
 */
class SetAndLeaveTest {

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void aBackendLeftWithOnlyPgwardensOwnWorkInFlightIsReusedClean(String mode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1")) {
            Set<String> pids = new HashSet<>();
            for (int round = 0; round < 20; round++) {
                try (Connection c = proxy.connect()) {
                    assertThat(single(c, "SHOW work_mem")).as("round %d sees no leaked setting", round)
                            .isEqualTo("4MB");
                    pids.add(single(c, "SELECT pg_backend_pid()::text"));
                    try (Statement s = c.createStatement()) {
                        s.execute("SET work_mem = '7MB'");
                    }
                }
            }
            assertThat(pids).as("one backend, reused by every client").hasSize(1);
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getString(1);
        }
    }
}
