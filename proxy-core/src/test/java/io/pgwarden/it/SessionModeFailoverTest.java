package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 17: session-mode clients through a switchover. A session whose state pgwarden can rebuild (settings,
 * protocol-level prepared statements) goes on on the promoted standby as if nothing happened; one that made
 * state pgwarden cannot rebuild (a temporary table) gets one clear 08006 instead of silently losing it.
 */
class SessionModeFailoverTest {

    private static ReplicatedPostgres cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ReplicatedPostgres.start();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void anIdleSessionIsRestoredOnThePromotedStandbyAndOneWithATempTableGetsOneClearError() throws Exception {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0}
                defaults:
                  pool_mode: session
                  query_wait_timeout: 5s
                  server: {connect_timeout: 5s}
                databases:
                  appdb:
                    hosts: ['127.0.0.1:%d', '127.0.0.1:%d']
                    target_session_attrs: read-write
                users:
                  app:
                    password: ${APP_PASSWORD}
                """.formatted(cluster.port(cluster.a()), cluster.port(cluster.b()));
        Properties named = new Properties();
        // pgjdbc names the server-side statement from its first execution on.
        named.setProperty("prepareThreshold", "1");
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, cluster.port(cluster.a()));
             Connection kept = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, named);
             Connection temp = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, new Properties())) {
            try (Statement s = kept.createStatement()) {
                s.execute("SET search_path = kept_schema, public");
                s.execute("SET statement_timeout = '42s'");
            }
            PreparedStatement ps = kept.prepareStatement("SELECT ?::int + 1");
            assertThat(plusOne(ps, 1)).isEqualTo(2);
            assertThat(plusOne(ps, 2)).isEqualTo(3);
            assertThat(serverPort(kept)).isEqualTo(cluster.port(cluster.a()));
            try (Statement s = temp.createStatement()) {
                s.execute("CREATE TEMP TABLE scratch (id int)");
            }
            assertThat(serverPort(temp)).isEqualTo(cluster.port(cluster.a()));

            cluster.stopFast(cluster.a());
            cluster.promote(cluster.b());

            // The same client connection, now on B, with its settings and its named statement.
            assertThat(serverPort(kept)).isEqualTo(cluster.port(cluster.b()));
            assertThat(show(kept, "search_path")).isEqualTo("kept_schema, public");
            assertThat(show(kept, "statement_timeout")).isEqualTo("42s");
            assertThat(plusOne(ps, 41)).isEqualTo(42);

            assertThatThrownBy(() -> serverPort(temp)).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08006");
                assertThat(e.getMessage()).contains("cannot be restored").contains("temporary");
            });
            assertThat(temp.isValid(5)).isFalse();
            try (Connection again = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, new Properties())) {
                assertThat(serverPort(again)).isEqualTo(cluster.port(cluster.b()));
            }
        }
    }

    private static int plusOne(PreparedStatement ps, int value) throws SQLException {
        ps.setInt(1, value);
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String show(Connection c, String setting) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int serverPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
