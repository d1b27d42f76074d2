package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code databases."*"} entry serves databases the file does not name, with pools that come and go, and a
 * database's forced user logs every client in to PostgreSQL as one role. Databases and role are made in
 * PostgreSQL only, never in the YAML.
 */
class AnyDatabaseTest {

    private static final String ONE = "h16c_one";
    private static final String TWO = "h16c_two";
    private static final String THREE = "h16c_three";
    private static final String READER = "h16c_reader";
    private static final String READER_PASSWORD = "reader-secret";

    @BeforeAll
    static void createDatabases() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + READER + " LOGIN PASSWORD '" + READER_PASSWORD + "'");
            for (String db : List.of(ONE, TWO, THREE)) {
                s.execute("CREATE DATABASE " + db + " OWNER app");
                s.execute("GRANT CONNECT ON DATABASE " + db + " TO " + READER);
            }
        }
    }

    @AfterAll
    static void dropDatabases() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            for (String db : List.of(ONE, TWO, THREE)) {
                s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            }
            s.execute("DROP ROLE IF EXISTS " + READER);
        }
    }

    /** A config whose {@code "*"} entry has these settings, plus {@code named} (YAML under databases:). */
    private static String yaml(String mode, String anyExtra, String named) {
        return """
                listen:
                  host: 127.0.0.1
                  port: 0
                  worker_threads: 2
                defaults:
                  pool_mode: %s
                  max_size: 2
                databases:
                  "*":
                    host: 127.0.0.1
                    port: ${PG_PORT}
                %s
                %s
                users:
                  app:
                    password: ${APP_PASSWORD}
                  admin:
                    password: admin-secret
                admin:
                  users: [admin]
                  http:
                    port: 0
                """.formatted(mode, anyExtra.indent(4).stripTrailing(), named.indent(2).stripTrailing());
    }

    private static TestProxy start(String yaml) {
        return TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port());
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void unnamedDatabasesGetPoolsThatCloseWhenUnusedAndComeBack(String mode) throws Exception {
        try (TestProxy proxy = start(yaml(mode, "auto_database_idle_timeout: 1s", ""))) {
            try (Connection one = connect(proxy, ONE); Connection two = connect(proxy, TWO)) {
                assertThat(query(one, "SELECT current_database()")).isEqualTo(ONE);
                assertThat(query(two, "SELECT current_database() || ' ' || current_user")).isEqualTo(TWO + " app");
                assertThat(psql(proxy, TWO, "SELECT current_database()")).isEqualTo(TWO);
                assertThat(poolsOf(proxy)).contains(ONE + "/app", TWO + "/app");
                assertThat(metrics(proxy)).contains("database=\"" + ONE + "\"");
                // As PgBouncer: the "*" entry, and each database made from it while it has a pool.
                assertThat(databasesOf(proxy)).contains("* *", ONE + " " + ONE, TWO + " " + TWO);
            }
            // Gone from SHOW POOLS and the metrics, and PostgreSQL's sessions on those databases closed with them.
            Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                assertThat(poolsOf(proxy)).doesNotContain(ONE + "/app", TWO + "/app");
                assertThat(backendsOn(ONE) + backendsOn(TWO)).isZero();
                assertThat(metrics(proxy)).doesNotContain("database=\"" + ONE + "\"")
                        .doesNotContain("database=\"" + TWO + "\"");
                assertThat(databasesOf(proxy)).contains("* *").doesNotContain(ONE + " " + ONE, TWO + " " + TWO);
            });
            assertThat(psql(proxy, ONE, "SELECT current_database()")).isEqualTo(ONE);
            try (Connection again = connect(proxy, ONE)) {
                assertThat(query(again, "SELECT current_database()")).isEqualTo(ONE);
                assertThat(poolsOf(proxy)).contains(ONE + "/app");
            }
        }
    }

    @Test
    void aNamedEntryWinsOverTheStarEntry() throws Exception {
        try (TestProxy proxy = start(yaml("transaction", "", """
                %s:
                  host: 127.0.0.1
                  port: ${PG_PORT}
                  dbname: %s
                """.formatted(ONE, TWO)));
             Connection c = connect(proxy, ONE)) {
            assertThat(query(c, "SELECT current_database()")).isEqualTo(TWO);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void aMissingDatabaseGetsPostgresqlsOwnErrorAndLeavesNoPool(String mode) throws Exception {
        // An hour of idle timeout: only the missing database can explain the pool going.
        try (TestProxy proxy = start(yaml(mode, "", ""))) {
            assertThatThrownBy(() -> connect(proxy, "h16c_nosuch").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("3D000");
                        assertThat(e.getMessage()).isEqualTo("FATAL: database \"h16c_nosuch\" does not exist");
                    });
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(poolsOf(proxy)).noneMatch(pool -> pool.startsWith("h16c_nosuch/")));
            assertThat(psqlFailure(proxy, "h16c_nosuch")).contains("database \"h16c_nosuch\" does not exist");
        }
    }

    @Test
    void theNumberOfAutoPoolsIsBounded() throws Exception {
        try (TestProxy proxy = start(yaml("transaction", "max_auto_pools: 2", ""));
             Connection one = connect(proxy, ONE); Connection two = connect(proxy, TWO)) {
            assertThatThrownBy(() -> connect(proxy, THREE).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("53400");
                        assertThat(e.getMessage()).contains("no pool for database \"" + THREE + "\"")
                                .contains("max_auto_pools");
                    });
            assertThat(poolsOf(proxy)).noneMatch(pool -> pool.startsWith(THREE + "/"));
            // Named entries do not count against it.
            assertThat(query(one, "SELECT current_database()")).isEqualTo(ONE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void aForcedUserLogsEveryClientInAsOneRole(String mode) throws Exception {
        try (TestProxy proxy = start(yaml(mode, "", """
                reports:
                  host: 127.0.0.1
                  port: ${PG_PORT}
                  dbname: %s
                  user: %s
                  password: %s
                """.formatted(ONE, READER, READER_PASSWORD)));
             Connection c = connect(proxy, "reports")) {
            assertThat(query(c, "SELECT current_user || ' ' || session_user")).isEqualTo(READER + " " + READER);
            assertThat(poolsOf(proxy)).contains("reports/" + READER).noneMatch(pool -> pool.equals("reports/app"));
            assertThat(configRows(proxy)).contains("databases.reports.user=" + READER,
                    "databases.reports.password=***").noneMatch(row -> row.contains(READER_PASSWORD));
        }
    }

    @Test
    void theStarEntryTakesAForcedUserToo() throws Exception {
        try (TestProxy proxy = start(yaml("transaction", "user: %s\npassword: %s".formatted(READER, READER_PASSWORD),
                ""));
             Connection c = connect(proxy, TWO)) {
            assertThat(query(c, "SELECT current_database() || ' ' || current_user")).isEqualTo(TWO + " " + READER);
            assertThat(poolsOf(proxy)).contains(TWO + "/" + READER);
        }
    }

    @Test
    void aWrongForcedPasswordIsToldToTheWaitingClient() {
        try (TestProxy proxy = start(yaml("transaction", "", """
                reports:
                  host: 127.0.0.1
                  port: ${PG_PORT}
                  dbname: %s
                  user: %s
                  password: not-the-password
                """.formatted(ONE, READER)))) {
            assertThatThrownBy(() -> connect(proxy, "reports").close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("pgwarden could not log in to PostgreSQL")
                                .contains("password authentication failed for user \"" + READER + "\"");
                    });
        }
    }

    @Test
    void reloadKeepsAutoAndForcedUserPools() throws Exception {
        String yaml = yaml("transaction", "max_size: 1", """
                reports:
                  host: 127.0.0.1
                  port: ${PG_PORT}
                  dbname: %s
                  user: %s
                  password: %s
                  max_size: 1
                """.formatted(ONE, READER, READER_PASSWORD));
        AtomicReference<String> current = new AtomicReference<>(yaml);
        try (TestProxy proxy = TestProxy.fromYaml(current::get, TestPostgres.shared().port());
             Connection auto = connect(proxy, TWO); Connection forced = connect(proxy, "reports")) {
            String autoPid = query(auto, "SELECT pg_backend_pid()::text");
            String forcedPid = query(forced, "SELECT pg_backend_pid()::text");
            // A retired pool would close these idle backends: the next transaction would get a new one.
            current.set(yaml.replace("max_size: 2", "max_size: 3"));
            assertThat(proxy.application().reload()).isEmpty();
            Awaitility.await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(query(auto, "SELECT pg_backend_pid()::text")).isEqualTo(autoPid);
                assertThat(query(forced, "SELECT pg_backend_pid()::text")).isEqualTo(forcedPid);
            });
            assertThat(poolsOf(proxy)).contains(TWO + "/app", "reports/" + READER);
        }
    }

    @Test
    void aNamedEntryRemovedByReloadLeavesItsNameToTheStarEntry() throws Exception {
        String named = """
                %s:
                  host: 127.0.0.1
                  port: ${PG_PORT}
                  dbname: %s
                """.formatted(ONE, TWO);
        AtomicReference<String> current = new AtomicReference<>(yaml("transaction", "", named));
        try (TestProxy proxy = TestProxy.fromYaml(current::get, TestPostgres.shared().port())) {
            try (Connection c = connect(proxy, ONE)) {
                assertThat(query(c, "SELECT current_database()")).isEqualTo(TWO);
            }
            current.set(yaml("transaction", "", ""));
            assertThat(proxy.application().reload()).isEmpty();
            try (Connection c = connect(proxy, ONE)) {
                assertThat(query(c, "SELECT current_database()")).isEqualTo(ONE);
            }
            // And back: the named entry wins again over the pool the "*" entry made meanwhile.
            current.set(yaml("transaction", "", named));
            assertThat(proxy.application().reload()).isEmpty();
            try (Connection c = connect(proxy, ONE)) {
                assertThat(query(c, "SELECT current_database()")).isEqualTo(TWO);
            }
        }
    }

    private static String metrics(TestProxy proxy) throws Exception {
        var address = proxy.application().httpAddress();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + address.getPort() + "/metrics")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static Connection connect(TestProxy proxy, String database) throws SQLException {
        return proxy.connect(database, "app", TestPostgres.APP_PASSWORD, new Properties());
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int backendsOn(String database) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** SHOW POOLS as database/user. */
    private static List<String> poolsOf(TestProxy proxy) throws SQLException {
        return show(proxy, "SHOW POOLS", "database", "/", "user");
    }

    /** SHOW DATABASES as name and database. */
    private static List<String> databasesOf(TestProxy proxy) throws SQLException {
        return show(proxy, "SHOW DATABASES", "name", " ", "database");
    }

    private static List<String> configRows(TestProxy proxy) throws SQLException {
        return show(proxy, "SHOW CONFIG", "key", "=", "value");
    }

    /** Each row of an admin command as two of its columns joined by {@code between}. */
    private static List<String> show(TestProxy proxy, String command, String first, String between, String second)
            throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection admin = admin(proxy); Statement s = admin.createStatement();
             ResultSet rs = s.executeQuery(command)) {
            while (rs.next()) {
                rows.add(rs.getString(first) + between + rs.getString(second));
            }
        }
        return rows;
    }

    private static Connection admin(TestProxy proxy) throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return proxy.connect("pgwarden", "admin", "admin-secret", simple);
    }

    private static String psql(TestProxy proxy, String database, String sql) throws Exception {
        Process process = psqlProcess(proxy, database, sql);
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(out).isZero();
        return out;
    }

    private static String psqlFailure(TestProxy proxy, String database) throws Exception {
        Process process = psqlProcess(proxy, database, "SELECT 1");
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(out).isNotZero();
        return out;
    }

    private static Process psqlProcess(TestProxy proxy, String database, String sql) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(CommandLineClientsTest.clientBinary("psql").toString(), "-X",
                "-A", "-t", "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", "app", "-d", database,
                "-c", sql).redirectErrorStream(true);
        builder.environment().putAll(Map.of("PGPASSWORD", TestPostgres.APP_PASSWORD, "PGCONNECT_TIMEOUT", "10"));
        return builder.start();
    }
}
