package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgwarden.it.ReplicatedPostgres.Node;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 17, acceptance 3 and 4: servers whose role changes under live backends. A primary fenced read-only is
 * told by the ParameterStatus PostgreSQL sends at a session's next query; a write that meets the fence as the
 * transaction's first statement is answered 25006, rolled back, and sent again on the new primary. The tests run
 * in order on one cluster (A primary, B its standby at first), each starting from the previous one's roles.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DemotionTest {

    private static ReplicatedPostgres cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ReplicatedPostgres.start();
        try (Connection c = direct(cluster.a()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE items (id int PRIMARY KEY)");
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static TestProxy proxy(String attrs, String server) {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0}
                defaults:
                  query_wait_timeout: 3s
                  server: {connect_timeout: 2s%s}
                databases:
                  appdb:
                    hosts: ['127.0.0.1:%d', '127.0.0.1:%d']
                    target_session_attrs: %s
                users:
                  app:
                    password: ${APP_PASSWORD}
                  admin:
                    password: admin-secret
                admin:
                  users: [admin]
                  http: {port: 0}
                """.formatted(server, cluster.port(cluster.a()), cluster.port(cluster.b()), attrs);
        return TestProxy.fromYaml(() -> yaml, cluster.port(cluster.a()));
    }

    @Test
    @Order(1)
    void aFenceSeenByTheHealthCheckRetiresThePrimarysBackendsBeforeAnyClientWritesThere() throws Exception {
        try (TestProxy proxy = proxy("read-write", ", health_check_interval: 200ms");
             Connection c = proxy.connect()) {
            assertThat(insert(c, 100)).isEqualTo(cluster.port(cluster.a()));
            assertThat(pgwardenSessions(cluster.a())).isPositive();

            fence(cluster.a(), true);
            // The check query's answer carries default_transaction_read_only=on: the idle backend is retired,
            // and a fresh login confirms the server is fenced, so none is opened there again.
            await().atMost(Duration.ofSeconds(10)).until(() -> pgwardenSessions(cluster.a()) == 0);

            fence(cluster.a(), false);
            assertThat(insert(c, 101)).isEqualTo(cluster.port(cluster.a()));
        }
    }

    @Test
    @Order(2)
    void theOldPrimaryBackAsAStandbyGetsNoBackendsAndClientsKeepWriting() throws Exception {
        try (TestProxy proxy = proxy("read-write", ", health_check_interval: 200ms");
             Connection c = proxy.connect()) {
            assertThat(insert(c, 200)).isEqualTo(cluster.port(cluster.a()));
            cluster.stopFast(cluster.a());
            cluster.promote(cluster.b());
            assertThat(insert(c, 201)).isEqualTo(cluster.port(cluster.b()));

            cluster.startAsStandbyOf(cluster.a(), cluster.b());
            cluster.awaitReplayed(cluster.a());
            for (int id = 202; id < 212; id++) {
                assertThat(insert(c, id)).isEqualTo(cluster.port(cluster.b()));
            }
            assertThat(pgwardenSessions(cluster.a())).isZero();
            assertThat(count(cluster.b(), 200, 211)).isEqualTo(12);
        }
    }

    @Test
    @Order(3)
    void aWriteMeetingTheFenceFirstIsSentAgainOnThePromotedStandbyAndAStandbyPoolStopsUsingIt() throws Exception {
        // B is the primary now, A its standby.
        try (TestProxy proxy = proxy("read-write", "");
             TestProxy standbys = proxy("standby", "");
             Connection c = proxy.connect();
             Connection reader = standbys.connect()) {
            assertThat(insert(c, 300)).isEqualTo(cluster.port(cluster.b()));
            assertThat(serverPort(reader)).isEqualTo(cluster.port(cluster.a()));

            cluster.awaitReplayed(cluster.a());
            fence(cluster.b(), true);
            cluster.promote(cluster.a());

            // No error: B answered 25006 for the INSERT, nothing ran, and it went to A.
            assertThat(insert(c, 301)).isEqualTo(cluster.port(cluster.a()));
            assertThat(count(cluster.a(), 301, 301)).isEqualTo(1);
            // Lost on B, run on A: a replay across the failover.
            assertThat(FailoverHoldTest.metrics(proxy))
                    .contains("pgwarden_failover_replays_total{database=\"appdb\"} 1.0");
            assertThat(FailoverHoldTest.metrics(standbys))
                    .contains("pgwarden_failover_replays_total{database=\"appdb\"} 0.0");

            // The standby pool's backend tells of the promotion in this answer, which still arrives whole...
            assertThat(serverPort(reader)).isEqualTo(cluster.port(cluster.a()));
            // ...and then is not used again: no host is a standby now.
            assertThatThrownBy(() -> serverPort(reader)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("target_session_attrs=standby");
        }
    }

    @Test
    @Order(4)
    void aReadOnlyErrorAfterAnotherStatementOfTheTransactionGoesToTheClientOnce() throws Exception {
        // A is the primary now; B is fenced.
        try (TestProxy proxy = proxy("read-write", ""); Connection c = proxy.connect()) {
            c.setAutoCommit(false);
            assertThat(insert(c, 400)).isEqualTo(cluster.port(cluster.a()));
            c.commit();

            fence(cluster.a(), true);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT 1");
                assertThatThrownBy(() -> s.execute("INSERT INTO items VALUES (401)"))
                        .isInstanceOfSatisfying(SQLException.class,
                                e -> assertThat(e.getSQLState()).isEqualTo("25006"));
            }
            c.rollback();

            fence(cluster.a(), false);
            assertThat(insert(c, 402)).isEqualTo(cluster.port(cluster.a()));
            c.commit();
            assertThat(count(cluster.a(), 401, 402)).isEqualTo(1);
        }
    }

    @Test
    @Order(5)
    void aClientsOwnReadOnlySettingGetsItsErrorAndMovesNothing() throws Exception {
        // A is the writable primary; B is still fenced.
        try (TestProxy proxy = proxy("read-write", ""); Connection c = proxy.connect();
             Statement s = c.createStatement()) {
            assertThat(insert(c, 500)).isEqualTo(cluster.port(cluster.a()));
            s.execute("SET default_transaction_read_only = on");
            // The session reports default_transaction_read_only=on as a fence would; a fresh login says the
            // server still takes writes, so the error is the client's, and it gets it.
            assertThatThrownBy(() -> s.execute("INSERT INTO items VALUES (501)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
            s.execute("RESET default_transaction_read_only");
            assertThat(insert(c, 502)).isEqualTo(cluster.port(cluster.a()));
            assertThat(count(cluster.a(), 500, 502)).isEqualTo(2);
        }
    }

    @Test
    @Order(6)
    void requestsPipelinedBehindTheFencedWriteAreAnsweredInOrderAndNothingIsSentTwice() throws Exception {
        // A is the writable primary; B is still fenced.
        String yaml = """
                listen: {host: 127.0.0.1, port: 0}
                defaults:
                  query_wait_timeout: 3s
                databases:
                  appdb:
                    hosts: ['127.0.0.1:%d', '127.0.0.1:%d']
                users:
                  app:
                    password: ${APP_PASSWORD}
                    auth: cleartext
                """.formatted(cluster.port(cluster.a()), cluster.port(cluster.b()));
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, cluster.port(cluster.a()));
             RawClient raw = new RawClient(proxy.port(), 0, 10_000, TestPostgres.APP_PASSWORD,
                     "user", "app", "database", "appdb")) {
            raw.query("INSERT INTO items VALUES (600)");
            assertThat(raw.untilReady()).isEqualTo("C Z");

            fence(cluster.a(), true);
            java.io.ByteArrayOutputStream two = new java.io.ByteArrayOutputStream();
            for (int id : new int[] {601, 602}) {
                byte[] sql = ("INSERT INTO items VALUES (" + id + ")\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                two.write('Q');
                two.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(4 + sql.length).array());
                two.writeBytes(sql);
            }
            raw.send(two.toByteArray());
            // The second request left with the first, so the first cannot be sent again alone: both answers
            // are PostgreSQL's, in order.
            assertThat(raw.untilReady()).contains("25006").endsWith("Z");
            assertThat(raw.untilReady()).contains("25006").endsWith("Z");

            fence(cluster.a(), false);
            raw.query("INSERT INTO items VALUES (603)");
            assertThat(raw.untilReady()).isEqualTo("C Z");
            assertThat(count(cluster.a(), 600, 603)).isEqualTo(2);
        }
    }

    /** Fences or unfences {@code node}, and waits until a new session there sees it. */
    private static void fence(Node node, boolean readOnly) throws SQLException {
        cluster.setReadOnly(node, readOnly);
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            try (Connection c = cluster.superuser(node); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SHOW default_transaction_read_only")) {
                rs.next();
                return rs.getString(1).equals(readOnly ? "on" : "off");
            }
        });
    }

    /** Inserts {@code id} through pgwarden and returns the port of the server that took it. */
    private static int insert(Connection c, int id) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO items VALUES (" + id + ")");
        }
        return serverPort(c);
    }

    private static int serverPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Sessions of the app role on {@code node} (the tests open none directly while they count), less pgwarden's
     * role probes, which log in as the pool's user every health-check interval, ask the role query (or nothing
     * yet) and leave.
     */
    private static int pgwardenSessions(Node node) throws SQLException {
        try (Connection c = cluster.superuser(node); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"
                     + " AND query <> '' AND query NOT LIKE '%pg_is_in_recovery()%'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int count(Node node, int from, int to) throws SQLException {
        try (Connection c = DriverManager.getConnection(cluster.url(node, "appdb"), "postgres", "");
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE id BETWEEN " + from + " AND " + to)) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static Connection direct(Node node) throws SQLException {
        return DriverManager.getConnection(cluster.url(node, "appdb"), "app", TestPostgres.APP_PASSWORD);
    }
}
