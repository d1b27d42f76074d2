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
        return proxy(QUERY_WAIT_TIMEOUT_MILLIS, failoverTimeout, host(cluster.a()), host(cluster.b()));
    }

    private static TestProxy proxy(long queryWaitTimeoutMillis, String failoverTimeout, String... hosts) {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0}
                defaults:
                  pool_mode: transaction
                  query_wait_timeout: %dms
                  query_wait_notice: 200ms
                  server: {connect_timeout: 5s, health_check_interval: 200ms}
                databases:
                  appdb:
                    hosts: [%s]
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
                """.formatted(queryWaitTimeoutMillis, "'" + String.join("', '", hosts) + "'", failoverTimeout);
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

    private static Map<String, String> appdb(TestProxy proxy, String command) throws SQLException {
        return show(proxy, command).stream().filter(r -> "appdb".equals(r.get("name")) || "appdb".equals(r.get("database")))
                .findFirst().orElseThrow();
    }

    /** The value of one sample of the exposition, e.g. {@code pgwarden_split_brain{database="appdb"}}. */
    private static double sample(TestProxy proxy, String series) throws Exception {
        for (String line : metrics(proxy).split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no sample " + series);
    }

    private static long count(Node node, String written) throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection(cluster.url(node, "appdb"), "app",
                TestPostgres.APP_PASSWORD);
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM written WHERE node = ?")) {
            ps.setString(1, written);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
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
            Map<String, String> during = appdb(proxy, "SHOW DATABASES");
            assertThat(during.get("target")).isEmpty();
            assertThat(during.get("failover")).startsWith("searching ");
            assertThat(during.get("host_roles")).contains(host(a) + "=").contains(host(b) + "=");
            assertThat(sample(proxy, "pgwarden_failover_in_progress{database=\"appdb\"}")).isEqualTo(1.0);
            assertThat(sample(proxy, "pgwarden_clients_held{database=\"appdb\"}")).isEqualTo(1.0);
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
            Map<String, String> after = appdb(proxy, "SHOW DATABASES");
            assertThat(after.get("target")).isEqualTo(host(b));
            assertThat(after.get("failover")).isEqualTo("none");
            assertThat(after.get("host_roles")).contains(host(b) + "=primary");
            assertThat(appdb(proxy, "SHOW POOLS").get("target")).isEqualTo(host(b));
            assertThat(show(proxy, "SHOW SERVERS")).isNotEmpty().allSatisfy(row -> {
                assertThat(row.get("host")).isEqualTo(host(b));
                assertThat(row.get("role")).isEqualTo("primary");
            });
            assertThat(sample(proxy, "pgwarden_failovers_total{database=\"appdb\"}")).isEqualTo(1.0);
            assertThat(sample(proxy, "pgwarden_failover_in_progress{database=\"appdb\"}")).isEqualTo(0.0);
            assertThat(sample(proxy, "pgwarden_clients_held{database=\"appdb\"}")).isEqualTo(0.0);
            assertThat(sample(proxy, "pgwarden_failover_seconds_total{database=\"appdb\"}"))
                    .isGreaterThan(QUERY_WAIT_TIMEOUT_MILLIS / 1000.0);
            // The failover_end event says how long the held clients waited.
            assertThat(show(proxy, "SHOW EVENTS")).anySatisfy(row -> {
                assertThat(row.get("kind")).isEqualTo("failover_end");
                assertThat(row.get("detail")).contains("host=" + host(b)).contains("clients_waiting=1")
                        .contains("longest_wait_ms=");
            });
        }
    }

    @Test
    @Order(2)
    void pastFailoverTimeoutAHeldClientGetsOneErrorNamingEachHostAndKeepsItsConnection() throws Exception {
        Node a = cluster.a();
        Node b = cluster.b();
        // query_wait_timeout longer than failover_timeout: the error comes at the failover's limit.
        try (TestProxy proxy = warm(proxy(20_000, "3s", host(a), host(b))); RawClient client = raw(proxy, 1_000)) {
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

    @Test
    @Order(3)
    void aSecondHostAcceptingWritesIsShownAsSplitBrainAndNeverWrittenTo() throws Exception {
        Node a = cluster.a();
        Node b = cluster.b();
        // B is the primary since the failover; A, the old primary, is down and will come back as a primary too.
        try (TestProxy proxy = warm(proxy(QUERY_WAIT_TIMEOUT_MILLIS, "30s", host(b), host(a)));
             Connection client = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, new Properties())) {
            assertThat(serverPort(client)).isEqualTo(cluster.port(b));
            assertThat(sample(proxy, "pgwarden_split_brain{database=\"appdb\"}")).isEqualTo(0.0);

            cluster.start(a);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(appdb(proxy, "SHOW DATABASES").get("failover")).isEqualTo("split_brain " + host(a)));
            assertThat(sample(proxy, "pgwarden_split_brain{database=\"appdb\"}")).isEqualTo(1.0);
            Map<String, String> databases = appdb(proxy, "SHOW DATABASES");
            assertThat(databases.get("target")).isEqualTo(host(b));
            assertThat(databases.get("host_roles")).contains(host(a) + "=primary").contains(host(b) + "=primary");
            assertThat(show(proxy, "SHOW EVENTS")).anySatisfy(row -> {
                assertThat(row.get("kind")).isEqualTo("split_brain");
                assertThat(row.get("detail")).contains("target=" + host(b)).contains("also_writable=" + host(a));
            });

            try (Statement s = client.createStatement()) {
                s.execute("INSERT INTO written VALUES ('during split brain')");
            }
            assertThat(serverPort(client)).isEqualTo(cluster.port(b));
            assertThat(count(b, "during split brain")).isEqualTo(1);
            assertThat(count(a, "during split brain")).as("nothing written to the other writable host").isZero();
        }
    }

    @Test
    @Order(4)
    void whenTheTargetIsLostAndTwoOthersAcceptWritesNeitherIsUsedUntilOnlyOneDoes() throws Exception {
        Node a = cluster.a();
        Node b = cluster.b();
        String other = "127.0.0.1:" + TestPostgres.shared().port();
        // Three writable servers: B (the target, listed first), A (the old primary) and a third, unrelated one.
        try (TestProxy proxy = warm(proxy(20_000, "3s", host(b), host(a), other)); RawClient client = raw(proxy, 1_000)) {
            client.query("SELECT inet_server_port()");
            assertThat(firstValue(answer(client, Duration.ofSeconds(20)))).isEqualTo(String.valueOf(cluster.port(b)));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                    appdb(proxy, "SHOW DATABASES").get("failover")).isEqualTo("split_brain " + host(a) + "," + other));

            cluster.stopFast(b);
            client.query("SELECT inet_server_port()");
            List<RawClient.Message> refused = answer(client, Duration.ofSeconds(20));
            List<RawClient.Message> errors = refused.stream().filter(m -> m.type() == 'E').toList();
            assertThat(errors).hasSize(1);
            assertThat(errors.get(0).field('C')).isEqualTo("08001");
            assertThat(errors.get(0).field('M')).contains("split brain in database appdb: " + host(a) + " and "
                    + other + " all accept writes");
            assertThat(appdb(proxy, "SHOW DATABASES").get("failover")).startsWith("split_brain " + host(a) + ","
                    + other + "; searching ");

            // The operator stops one of them: the other becomes the target, and the same client goes on.
            cluster.stopFast(a);
            client.query("SELECT inet_server_port()");
            List<RawClient.Message> served = answer(client, Duration.ofSeconds(20));
            assertThat(served).noneMatch(m -> m.type() == 'E');
            assertThat(firstValue(served)).isEqualTo(String.valueOf(TestPostgres.shared().port()));
            assertThat(appdb(proxy, "SHOW DATABASES").get("failover")).isEqualTo("none");
        }
    }
}
