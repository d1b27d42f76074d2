package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.it.ReplicatedPostgres.Node;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 17: while a database listed with several hosts has none that fits target_session_attrs, its clients are
 * held (up to failover_timeout, not query_wait_timeout) and told why; past failover_timeout they get one error
 * naming each host. The tests run in order on one primary/standby pair, each starting where the last one left it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverHoldTest {

    /** Short, so that a client still waiting after it proves it was held by failover_timeout instead. */
    private static final long QUERY_WAIT_TIMEOUT_MILLIS = 2_000;

    private static ReplicatedPostgres cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ReplicatedPostgres.start();
        try (Connection c = java.sql.DriverManager.getConnection(cluster.url(cluster.a(), "appdb"), "app",
                TestPostgres.APP_PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE written (node text)");
        }
        cluster.awaitReplayed(cluster.b());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static TestProxy proxy(String failoverTimeout) {
        return proxy(QUERY_WAIT_TIMEOUT_MILLIS, failoverTimeout);
    }

    private static TestProxy proxy(long queryWaitTimeoutMillis, String failoverTimeout) {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0}
                defaults:
                  pool_mode: transaction
                  query_wait_timeout: %dms
                  query_wait_notice: 200ms
                  server: {connect_timeout: 5s, health_check_interval: 200ms}
                databases:
                  appdb:
                    hosts: ['127.0.0.1:%d', '127.0.0.1:%d']
                    target_session_attrs: read-write
                    failover_timeout: %s
                users:
                  app:
                    password: ${APP_PASSWORD}
                    auth: cleartext
                  admin:
                    password: admin-secret
                admin:
                  users: [admin]
                  http: {port: 0}
                """.formatted(queryWaitTimeoutMillis, cluster.port(cluster.a()), cluster.port(cluster.b()),
                failoverTimeout);
        return TestProxy.fromYaml(() -> yaml, cluster.port(cluster.a()));
    }

    /**
     * The first backend login of a fresh proxy can take seconds on a loaded machine (SCRAM, a forked backend):
     * longer than the short query_wait_timeout. Once one is open, the pool keeps it idle.
     */
    private static TestProxy warm(TestProxy proxy) {
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, new Properties())) {
                return serverPort(c) > 0;
            }
        });
        return proxy;
    }

    private static RawClient raw(TestProxy proxy, int readTimeoutMillis) throws IOException {
        return new RawClient(proxy.port(), 0, readTimeoutMillis, TestPostgres.APP_PASSWORD, "user", "app",
                "database", "appdb");
    }

    private static String host(Node node) {
        return "127.0.0.1:" + cluster.port(node);
    }

    private static int serverPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** The next message, waiting through read timeouts until {@code deadlineNanos}. */
    private static RawClient.Message next(RawClient client, long deadlineNanos) throws IOException {
        while (true) {
            try {
                return client.next();
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() > deadlineNanos) {
                    throw e;
                }
            }
        }
    }

    /** The messages up to and including ReadyForQuery. */
    private static List<RawClient.Message> answer(RawClient client, Duration within) throws IOException {
        long deadline = System.nanoTime() + within.toNanos();
        List<RawClient.Message> messages = new ArrayList<>();
        RawClient.Message m;
        do {
            m = next(client, deadline);
            messages.add(m);
        } while (m.type() != 'Z');
        return messages;
    }

    private static String firstValue(List<RawClient.Message> messages) {
        for (RawClient.Message m : messages) {
            if (m.type() == 'D') {
                java.nio.ByteBuffer row = java.nio.ByteBuffer.wrap(m.body());
                row.getShort();
                int length = row.getInt();
                return new String(m.body(), 6, length, java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    static Connection admin(TestProxy proxy) throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return proxy.connect("pgwarden", "admin", "admin-secret", simple);
    }

    static List<Map<String, String>> show(TestProxy proxy, String command) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Connection admin = admin(proxy); Statement s = admin.createStatement();
             ResultSet rs = s.executeQuery(command)) {
            ResultSetMetaData meta = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new HashMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnName(i), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    static String metrics(TestProxy proxy) throws Exception {
        var address = proxy.application().httpAddress();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + address.getPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    @Order(1)
    void clientsWaitThroughAFailoverToldWhyAndIdleOnesKeepTheirConnection() throws Exception {
        Node a = cluster.a();
        Node b = cluster.b();
        try (TestProxy proxy = warm(proxy("30s")); Connection idle = proxy.connect("appdb", "app",
                TestPostgres.APP_PASSWORD, new Properties());
             RawClient waiting = raw(proxy, (int) QUERY_WAIT_TIMEOUT_MILLIS + 500)) {
            assertThat(serverPort(idle)).isEqualTo(cluster.port(a));
            waiting.query("SELECT 1");
            assertThat(firstValue(answer(waiting, Duration.ofSeconds(10)))).isEqualTo("1");

            cluster.stopFast(a);
            waiting.query("SELECT inet_server_port()");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            RawClient.Message notice;
            do {
                notice = next(waiting, deadline);
                assertThat(notice.type()).as("nothing but NOTICEs while held").isEqualTo('N');
            } while (!notice.field('M').contains("failover in progress"));
            assertThat(notice.field('M')).contains("failover in progress for database appdb: no server matches "
                    + "target_session_attrs=read-write since ").contains("waiting up to 30.0 s (failover_timeout)");
            // What each host last answered, as far as the search has got.
            assertThat(notice.field('D')).contains(host(a) + " (could not connect").contains(host(b) + " (");
            // Held past query_wait_timeout: the next read times out instead of bringing the 53300 error.
            long heldSince = System.nanoTime();
            org.assertj.core.api.Assertions.assertThatThrownBy(waiting::next)
                    .isInstanceOf(SocketTimeoutException.class);
            assertThat(System.nanoTime() - heldSince).isGreaterThan(QUERY_WAIT_TIMEOUT_MILLIS * 1_000_000);

            cluster.promote(b);
            List<RawClient.Message> served = answer(waiting, Duration.ofSeconds(20));
            assertThat(served).noneMatch(m -> m.type() == 'E');
            assertThat(firstValue(served)).isEqualTo(String.valueOf(cluster.port(b)));
            assertThat(serverPort(idle)).as("the idle client's next query, on the new primary")
                    .isEqualTo(cluster.port(b));
            try (Statement s = idle.createStatement()) {
                s.execute("INSERT INTO written VALUES ('after failover')");
            }
        }
    }

    @Test
    @Order(2)
    void pastFailoverTimeoutAHeldClientGetsOneErrorNamingEachHostAndKeepsItsConnection() throws Exception {
        Node a = cluster.a();
        Node b = cluster.b();
        // query_wait_timeout longer than failover_timeout: the error comes at the failover's limit.
        try (TestProxy proxy = warm(proxy(20_000, "3s")); RawClient client = raw(proxy, 1_000)) {
            client.query("SELECT inet_server_port()");
            assertThat(firstValue(answer(client, Duration.ofSeconds(20)))).isEqualTo(String.valueOf(cluster.port(b)));

            cluster.stopFast(b);
            long sent = System.nanoTime();
            client.query("SELECT inet_server_port()");
            List<RawClient.Message> failed = answer(client, Duration.ofSeconds(20));
            long waitedMillis = (System.nanoTime() - sent) / 1_000_000;
            List<RawClient.Message> errors = failed.stream().filter(m -> m.type() == 'E').toList();
            assertThat(errors).as("exactly one error").hasSize(1);
            RawClient.Message error = errors.get(0);
            assertThat(error.field('S')).isEqualTo("ERROR");
            assertThat(error.field('C')).isEqualTo("08001");
            assertThat(error.field('M'))
                    .contains("no server of database appdb matches target_session_attrs=read-write")
                    .contains("(failover_timeout 3000 ms)")
                    .contains(host(a) + " (could not connect")
                    .contains(host(b) + " (could not connect");
            assertThat(waitedMillis).isGreaterThanOrEqualTo(3_000).isLessThan(20_000);

            cluster.start(b);
            client.query("SELECT inet_server_port()");
            List<RawClient.Message> served = answer(client, Duration.ofSeconds(20));
            assertThat(served).noneMatch(m -> m.type() == 'E');
            assertThat(firstValue(served)).isEqualTo(String.valueOf(cluster.port(b)));
        }
    }
}
