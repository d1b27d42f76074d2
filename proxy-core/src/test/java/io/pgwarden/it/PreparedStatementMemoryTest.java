package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgwarden.session.StatementNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, item 3: the proxy-wide statement map holds only what live clients prepared, bounded in bytes; a
 * client past its own share gets 53200 and takes nothing from the others.
 */
class PreparedStatementMemoryTest {

    private static final String LISTEN = "max_prepared_statement_bytes: 1048576\n"
            + "max_prepared_statement_bytes_per_client: 65536";

    @Test
    void aClientPastItsShareGets53200AndEverythingItHeldGoesWhenItLeaves() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2", LISTEN)) {
            StatementNames names = proxy.application().context().statementNames();
            Connection greedy = connect(proxy);
            Connection other = connect(proxy);
            List<PreparedStatement> held = new ArrayList<>();
            SQLException refused = null;
            for (int i = 0; i < 100 && refused == null; i++) {
                PreparedStatement p = greedy.prepareStatement("SELECT " + i + " /* " + "x".repeat(2000) + " */");
                held.add(p);
                try {
                    execute(p);
                } catch (SQLException e) {
                    refused = e;
                }
            }
            assertThat(refused == null).as("refused before 100 statements of 2 KB").isFalse();
            assertThat(refused.getSQLState()).isEqualTo("53200");
            assertThat(refused.getMessage()).contains("listen.max_prepared_statement_bytes_per_client");
            assertThat(held.size()).as("statements kept before the refusal").isBetween(25, 33);
            assertThat(names.bytesInUse()).isLessThanOrEqualTo(65536);

            PreparedStatement mine = other.prepareStatement("SELECT 42 /* " + "y".repeat(2000) + " */");
            assertThat(execute(mine)).as("another client is unaffected").isEqualTo("42");
            assertThat(execute(held.get(0))).as("the refused client keeps its connection").isEqualTo("0");

            greedy.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> names.bytesInUse() < 4096);
            other.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> names.bytesInUse() == 0);
            assertThat(names.bytes()).as("released statements stay only as room allows").isLessThanOrEqualTo(1048576);
        }
    }

    @Test
    void anOutOfRangeLimitIsRefusedNamingItsKey() {
        assertThatThrownBy(() -> TestProxy.start("pool_mode: transaction", "max_prepared_statement_bytes: 10"))
                .hasStackTraceContaining("listen.max_prepared_statement_bytes");
    }

    private static Connection connect(TestProxy proxy) throws SQLException {
        Properties extra = new Properties();
        extra.setProperty("prepareThreshold", "1");
        return proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, extra);
    }

    private static String execute(PreparedStatement p) throws SQLException {
        try (ResultSet r = p.executeQuery()) {
            r.next();
            return r.getString(1);
        }
    }
}
