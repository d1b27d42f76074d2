package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Issue 3: pgjdbc's server-side prepared statements work unchanged in transaction mode. */
class PreparedStatementsTest {

    private static Properties threshold(String value) {
        Properties props = new Properties();
        // pgjdbc bounds the SSLRequest and login exchange by connectTimeout too; fifty logins at once on a
        // loaded 2-core machine with paranoid leak detection can take longer than TestProxy's 10 s (seen on
        // main as well): what this class checks is statement sharing, not login latency.
        props.setProperty("connectTimeout", "60");
        if (!value.isEmpty()) {
            props.setProperty("prepareThreshold", value);
        }
        return props;
    }

    @ParameterizedTest(name = "prepareThreshold={0}")
    @ValueSource(strings = {"", "1"})
    void fiftyClientsOverFiveBackendsShareServerSideStatements(String prepareThreshold) throws Exception {
        String table = "batch_" + (prepareThreshold.isEmpty() ? "default" : prepareThreshold);
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 5\nquery_wait_timeout: 60s")) {
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + table);
                s.execute("CREATE TABLE " + table + " (client int, i int, PRIMARY KEY (client, i))");
            }
            ExecutorService pool = Executors.newFixedThreadPool(50);
            List<Future<?>> results = new ArrayList<>();
            for (int client = 0; client < 50; client++) {
                int id = client;
                results.add(pool.submit(() -> {
                    try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD,
                            threshold(prepareThreshold));
                         PreparedStatement query = c.prepareStatement("SELECT ?::int * 3, ?::text || '!'");
                         PreparedStatement insert = c.prepareStatement(
                                 "INSERT INTO " + table + " (client, i) VALUES (?, ?)")) {
                        for (int i = 0; i < 500; i++) {
                            query.setInt(1, i);
                            query.setString(2, "c" + id);
                            try (ResultSet rs = query.executeQuery()) {
                                assertThat(rs.next()).isTrue();
                                assertThat(rs.getInt(1)).isEqualTo(i * 3);
                                assertThat(rs.getString(2)).isEqualTo("c" + id + "!");
                            }
                        }
                        for (int i = 0; i < 100; i++) {
                            insert.setInt(1, id);
                            insert.setInt(2, i);
                            insert.addBatch();
                        }
                        assertThat(insert.executeBatch()).hasSize(100).containsOnly(1);
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();

            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT client) FROM " + table)) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(50 * 100);
                    assertThat(rs.getInt(2)).isEqualTo(50);
                }
                // Whichever backend answers, its statements are the shared ones, not one per client.
                try (ResultSet rs = s.executeQuery("SELECT name FROM pg_prepared_statements")) {
                    List<String> names = new ArrayList<>();
                    while (rs.next()) {
                        names.add(rs.getString(1));
                    }
                    assertThat(names).isNotEmpty().allMatch(n -> n.startsWith("pgwarden_")).hasSizeLessThanOrEqualTo(4);
                }
                s.execute("DROP TABLE " + table);
            }
        }
    }

    @Test
    void twoClientsUsingTheSameStatementNameForDifferentQueriesGetTheirOwnResults() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1");
             Connection a = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, threshold("1"));
             Connection b = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, threshold("1"));
             // pgjdbc names the first server-side statement of each connection S_1.
             PreparedStatement pa = a.prepareStatement("SELECT 'a:' || ?::text");
             PreparedStatement pb = b.prepareStatement("SELECT 'b:' || ?::text, 2")) {
            for (int i = 0; i < 10; i++) {
                pa.setString(1, "x" + i);
                pb.setString(1, "y" + i);
                try (ResultSet ra = pa.executeQuery(); ResultSet rb = pb.executeQuery()) {
                    ra.next();
                    rb.next();
                    assertThat(ra.getString(1)).isEqualTo("a:x" + i);
                    assertThat(rb.getString(1)).isEqualTo("b:y" + i);
                    assertThat(rb.getInt(2)).isEqualTo(2);
                }
            }
        }
    }

    @Test
    void aParseErrorReachesTheClientAndIsNotCached() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1");
             Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, threshold("1"))) {
            try (PreparedStatement bad = c.prepareStatement("SELEC 1")) {
                org.assertj.core.api.Assertions.assertThatThrownBy(bad::executeQuery)
                        .isInstanceOfSatisfying(java.sql.SQLException.class,
                                e -> assertThat(e.getSQLState()).isEqualTo("42601"));
            }
            try (PreparedStatement good = c.prepareStatement("SELECT 5"); ResultSet rs = good.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(5);
            }
        }
    }

    @Test
    void discardAllClearsOnlyTheCallersStatements() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1");
             Connection a = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, threshold("1"));
             Connection b = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, threshold("1"));
             PreparedStatement pa = a.prepareStatement("SELECT 10 + ?::int");
             PreparedStatement pb = b.prepareStatement("SELECT 20 + ?::int")) {
            pa.setInt(1, 1);
            pb.setInt(1, 1);
            pa.executeQuery().close();
            pb.executeQuery().close();
            try (Statement s = a.createStatement()) {
                s.execute("DISCARD ALL");
            }
            for (int i = 0; i < 3; i++) {
                pb.setInt(1, i);
                try (ResultSet rs = pb.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(20 + i);
                }
            }
        }
    }

    @Test
    void evictionBeyondMaxPreparedStatementsIsInvisibleToClients() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1\nmax_prepared_statements: 3");
             Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, threshold("1"))) {
            List<PreparedStatement> statements = new ArrayList<>();
            for (int q = 0; q < 8; q++) {
                statements.add(c.prepareStatement("SELECT " + q + " + ?::int"));
            }
            for (int round = 0; round < 3; round++) {
                for (int q = 0; q < statements.size(); q++) {
                    statements.get(q).setInt(1, round);
                    try (ResultSet rs = statements.get(q).executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(q + round);
                    }
                }
            }
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_prepared_statements")) {
                rs.next();
                assertThat(rs.getInt(1)).isLessThanOrEqualTo(3);
            }
        }
    }
}
