package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.BackendConnection;
import io.pgwarden.pool.BackendPool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** A backend idle longer than check_delay is checked before use, and comes back to the pool once it passes. */
class CheckBeforeUseTest {

    private static final Duration CHECK_DELAY = Duration.ofSeconds(3);

    @Test
    void aBackendPassedOverForItsCheckIsStillThereForTheNextTransaction() throws Exception {
        // Two loops (TestProxy), one min_size backend on each; two clients connected one after the other land on
        // different loops, and each is served by the backend on its own loop.
        try (TestProxy proxy = TestProxy.start("""
                pool_mode: transaction
                min_size: 2
                max_size: 2
                query_wait_timeout: 2s
                server:
                  check_delay: %dms
                """.formatted(CHECK_DELAY.toMillis()));
             Connection first = proxy.connect(); Connection second = proxy.connect()) {
            BackendPool pool = proxy.application().pools().pools().stream()
                    .filter(p -> p.key().user().equals("app")).findFirst().orElseThrow();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pool.idleCount() == 2);
            int firstPid = pid(first);
            int secondPid = pid(second);
            assertThat(firstPid).as("each client is served on its own loop").isNotEqualTo(secondPid);

            // The first client's backend becomes due for a check while the second keeps its own fresh; the first
            // client is then served by the fresh one while its own is checked.
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pid(second) == secondPid
                    && pool.idleSnapshot().stream().filter(b -> b.processId() == firstPid)
                            .anyMatch(b -> System.nanoTime() - b.verifiedAtNanos() > CHECK_DELAY.toNanos()));
            assertThat(pid(first)).isEqualTo(secondPid);

            // Both backends are available again: two transactions at once fit in max_size 2.
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            assertThat(pid(first)).isNotEqualTo(pid(second));
            first.commit();
            second.commit();
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> pool.idleCount() == 2
                    && pool.counts().testing() == 0 && pool.size() == 2);
            assertThat(pool.idleSnapshot()).extracting(BackendConnection::processId)
                    .containsExactlyInAnyOrder(firstPid, secondPid);
        }
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
