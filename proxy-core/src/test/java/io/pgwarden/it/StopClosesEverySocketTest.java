package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.testsupport.NettyLeakCheck;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A stop with clients inside transactions and backends idle in the pool closes every server connection itself
 * before its event loops end, on every transport: on io_uring a socket left to the loops' shutdown had its read
 * buffer leaked (Netty's leak report), and its handlers never heard of the close.
 */
class StopClosesEverySocketTest {

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void aStopClosesEveryServerConnectionAndLeaksNothing(String transport) throws Exception {
        Transports.assumeLoads(transport);
        List<Integer> pids = new ArrayList<>();
        List<Connection> clients = new ArrayList<>();
        TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 4",
                "transport: " + transport);
        try {
            for (int i = 0; i < 3; i++) {
                Connection c = proxy.connect();
                clients.add(c);
                // Two stay inside a transaction, holding their backends; the third's goes back to the pool.
                c.setAutoCommit(i == 2);
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pids.add(rs.getInt(1));
                }
            }
            Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> proxy.application().pools().pools().iterator().next().idleSnapshot().size() >= 1);
        } finally {
            proxy.close();
        }
        assertThat(pids).hasSize(3);
        // The backends the clients held, and those idle in the pool: none is left to PostgreSQL's own timeouts.
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(pgwardenBackends()).as("backends of user app after the stop").isZero());
        for (Connection c : clients) {
            c.close();
        }
        assertThat(NettyLeakCheck.collectLeaks()).as("leaks after the stop").isEmpty();
    }

    private static int pgwardenBackends() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser();
             PreparedStatement p = c.prepareStatement(
                     "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND pid <> pg_backend_pid()")) {
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
