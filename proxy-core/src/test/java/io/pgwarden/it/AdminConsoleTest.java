package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Issue 5: the admin console, client timeouts, metrics, health endpoints and live reload. */
class AdminConsoleTest {

    private static String yaml(String defaults) {
        return """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                  admin:
                    password: admin-secret
                  notadmin:
                    password: other-secret
                admin:
                  users: [admin]
                  http:
                    port: 0
                """.formatted(defaults.indent(2).stripTrailing());
    }

    private static TestProxy start(String defaults) {
        return TestProxy.fromYaml(() -> yaml(defaults), TestPostgres.shared().port());
    }

    private static Connection admin(TestProxy proxy) throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return proxy.connect("pgwarden", "admin", "admin-secret", simple);
    }

    /** Rows of an admin SHOW, each as column name to value. */
    private static List<Map<String, String>> show(Connection admin, String command) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery(command)) {
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

    private static String metrics(TestProxy proxy) throws Exception {
        return http(proxy, "/metrics").body();
    }

    private static HttpResponse<String> http(TestProxy proxy, String path) throws Exception {
        var address = proxy.application().httpAddress();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + address.getPort() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void showPoolsAndClientsDescribeWhatIsGoingOn() throws Exception {
        try (TestProxy proxy = start("pool_mode: transaction\nmax_size: 5"); Connection admin = admin(proxy)) {
            Properties named = new Properties();
            named.setProperty("ApplicationName", "billing-worker");
            Connection leaky = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, named);
            leaky.setAutoCommit(false);
            try (Statement s = leaky.createStatement()) {
                s.execute("SELECT 1");
            }
            ExecutorService pool = Executors.newFixedThreadPool(20);
            List<Future<?>> running = new ArrayList<>();
            // The workers run until the pool has been seen with all 21 clients: a fixed run time ended the first
            // workers before the last had logged in on a loaded machine. The deadline only bounds a failing run.
            java.util.concurrent.atomic.AtomicBoolean seen = new java.util.concurrent.atomic.AtomicBoolean();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int i = 0; i < 20; i++) {
                running.add(pool.submit(() -> {
                    try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                        while (!seen.get() && System.nanoTime() < until) {
                            s.execute("SELECT pg_sleep(0.01)");
                        }
                    }
                    return null;
                }));
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
                Map<String, String> row = show(admin, "SHOW POOLS").stream()
                        .filter(r -> r.get("database").equals("appdb") && r.get("user").equals("app"))
                        .findFirst().orElseThrow();
                int clients = Integer.parseInt(row.get("cl_active")) + Integer.parseInt(row.get("cl_waiting"))
                        + Integer.parseInt(row.get("cl_idle"));
                return clients == 21 && Integer.parseInt(row.get("sv_active")) + Integer.parseInt(row.get("sv_idle")) <= 5
                        && row.get("cl_idle_in_transaction").equals("1") && row.get("pool_mode").equals("transaction");
            });
            seen.set(true);
            Map<String, String> leak = show(admin, "SHOW CLIENTS").stream()
                    .filter(r -> "billing-worker".equals(r.get("application_name"))).findFirst().orElseThrow();
            assertThat(leak.get("state")).isEqualTo("idle in transaction");
            assertThat(Double.parseDouble(leak.get("xact_age_s"))).isGreaterThan(0);
            assertThat(leak.get("last_statement")).isEqualTo("SELECT 1");
            for (Future<?> f : running) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            leaky.close();
            assertThat(show(admin, "SHOW VERSION").get(0).get("version")).startsWith("pgwarden ");
            assertThat(show(admin, "SHOW DATABASES")).extracting(r -> r.get("name")).contains("appdb");
            // allow_cleartext_password and allow_md5_password are rules, not passwords.
            assertThat(show(admin, "SHOW CONFIG")).extracting(r -> r.get("key")).contains("defaults.max_size")
                    .noneMatch(k -> k.endsWith(".password"));
            assertThat(show(admin, "SHOW CONFIG")).extracting(r -> r.get("value"))
                    .noneMatch(v -> v.contains(TestPostgres.APP_PASSWORD) || v.contains("admin-secret"));
            assertThat(show(admin, "SHOW STATS").get(0).get("total_xact_count")).isNotEqualTo("0");
            assertThat(show(admin, "SHOW SERVERS")).isNotEmpty();
            assertThatThrownBy(() -> show(admin, "SHOW NONSENSE"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("unknown admin command"));
        }
    }

    @Test
    void nonAdminUsersAreRefused() {
        try (TestProxy proxy = start("pool_mode: transaction")) {
            assertThatThrownBy(() -> proxy.connect("pgwarden", "notadmin", "other-secret", new Properties()))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("not in admin.users");
                    });
        }
    }

    @Test
    void anIdleInTransactionClientIsReportedThenDisconnectedAndItsLockReleased() throws Exception {
        try (TestProxy proxy = start("""
                pool_mode: transaction
                client:
                  idle_in_transaction_warning: 300ms
                  leak_after: 300ms
                  idle_in_transaction_timeout: 4s
                """); Connection admin = admin(proxy); Connection setup = proxy.connect()) {
            try (Statement s = setup.createStatement()) {
                s.execute("DROP TABLE IF EXISTS leak_lock");
                s.execute("CREATE TABLE leak_lock (id int PRIMARY KEY, v int)");
                s.execute("INSERT INTO leak_lock VALUES (1, 0)");
            }
            Connection sleeper = proxy.connect();
            sleeper.setAutoCommit(false);
            try (Statement s = sleeper.createStatement()) {
                s.executeUpdate("UPDATE leak_lock SET v = 1 WHERE id = 1");
            }
            List<Map<String, String>> leaks = Awaitility.await().atMost(Duration.ofSeconds(3))
                    .until(() -> show(admin, "SHOW LEAKS"), rows -> !rows.isEmpty());
            assertThat(leaks.get(0).get("xact_start_statement")).as("leaks %s, clients %s", leaks, show(admin, "SHOW CLIENTS")).startsWith("UPDATE leak_lock");
            assertThat(Double.parseDouble(leaks.get(0).get("xact_age_s"))).isGreaterThan(0.2);
            // Within reason of the 4 s timeout; the kill's exact moment and answer are tested without a clock in
            // session.JanitorTimeoutsTest.
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> show(admin, "SHOW EVENTS").stream()
                    .anyMatch(r -> r.get("kind").equals("client_killed")));
            assertThatThrownBy(() -> sleeper.createStatement().execute("SELECT 1"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isIn("25P03", "08003", "08006"));
            try (Statement s = setup.createStatement()) {
                s.execute("SET lock_timeout = '2s'");
                assertThat(s.executeUpdate("UPDATE leak_lock SET v = 2 WHERE id = 1")).isEqualTo(1);
                try (ResultSet rs = s.executeQuery("SELECT v FROM leak_lock")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("the sleeper's change was rolled back, then ours applied").isEqualTo(2);
                }
                s.execute("DROP TABLE leak_lock");
            }
            assertThat(metrics(proxy)).contains("pgwarden_timeouts_total{kind=\"idle_in_transaction\"} 1");
        }
    }

    @Test
    void showLeaksListsAClientIdleInTransactionForAFewSecondsWithTheDefaultsWhateverTheWarningSays() throws Exception {
        try (TestProxy proxy = start("pool_mode: transaction\nclient: {idle_in_transaction_warning: 1h}");
             Connection admin = admin(proxy); Connection quick = proxy.connect(); Connection leaker = proxy.connect()) {
            leaker.setAutoCommit(false);
            quick.setAutoCommit(false);
            try (Statement s = leaker.createStatement()) {
                s.execute("SELECT 'leaked' AS marker");
            }
            long leakedAt = System.nanoTime();
            List<Map<String, String>> leaks = Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> show(admin, "SHOW LEAKS"), rows -> !rows.isEmpty());
            assertThat(Duration.ofNanos(System.nanoTime() - leakedAt)).as("client.leak_after defaults to 2 s")
                    .isGreaterThan(Duration.ofMillis(1_500)).isLessThan(Duration.ofSeconds(10));
            assertThat(leaks).singleElement().satisfies(row -> {
                assertThat(row.get("xact_start_statement")).isEqualTo("SELECT 'leaked' AS marker");
                assertThat(Double.parseDouble(row.get("idle_s"))).isGreaterThanOrEqualTo(2.0);
            });
            try (Statement s = quick.createStatement()) {
                s.execute("SELECT 'fresh'");
            }
            assertThat(show(admin, "SHOW LEAKS")).as("a transaction idle for less than leak_after is no leak yet")
                    .hasSize(1);
            assertThat(show(admin, "SHOW CONFIG")).anySatisfy(row -> {
                assertThat(row.values()).contains("defaults.client.leak_after", "PT2S");
            });
            leaker.rollback();
            quick.rollback();
        }
    }

    @Test
    void aTransactionOpenedByABareBeginIsReportedWithItsFirstRealStatement() throws Exception {
        try (TestProxy proxy = start("""
                pool_mode: transaction
                client:
                  leak_after: 200ms
                """); Connection admin = admin(proxy); Connection psqlLike = proxy.connect();
             Statement s = psqlLike.createStatement()) {
            // As psql does: BEGIN on its own round trip, the statement after it on the next.
            s.execute("BEGIN");
            s.execute("SELECT 42 AS first_real_statement");
            List<Map<String, String>> leaks = Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> show(admin, "SHOW LEAKS"), rows -> !rows.isEmpty());
            assertThat(leaks.get(0).get("xact_start_statement")).isEqualTo("SELECT 42 AS first_real_statement");
            s.execute("ROLLBACK");
        }
    }

    @Test
    void poolExhaustionGivesANoticeThenTheTimeoutAndIsRecorded() throws Exception {
        try (TestProxy proxy = start("""
                pool_mode: transaction
                max_size: 2
                query_wait_timeout: 3s
                query_wait_notice: 500ms
                """); Connection admin = admin(proxy)) {
            List<Connection> holders = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Connection c = proxy.connect();
                c.setAutoCommit(false);
                c.createStatement().execute("SELECT 1");
                holders.add(c);
            }
            // pgjdbc would otherwise run a setup query at connect, which itself needs a backend.
            Properties noSetupQuery = new Properties();
            noSetupQuery.setProperty("assumeMinServerVersion", "10");
            Connection waiter = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, noSetupQuery);
            Statement waiting = waiter.createStatement();
            CompletableFuture<SQLException> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    waiting.execute("SELECT 2");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(3))
                    .until(() -> metrics(proxy).contains("pgwarden_clients{database=\"appdb\",state=\"waiting\",user=\"app\"} 1"));
            // Within reason of the 3 s query_wait_timeout; the exact moment, the NOTICE before it and the 53300 are
            // tested without a clock in session.JanitorTimeoutsTest.
            SQLException timeout = outcome.get(30, TimeUnit.SECONDS);
            assertThat(timeout.getSQLState()).isEqualTo("53300");
            assertThat((Object) waiting.getWarnings()).as("the NOTICE sent while waiting").isNotNull();
            assertThat(waiting.getWarnings().getMessage()).contains("waiting for a server connection")
                    .contains("pool appdb/app has 2 of 2 server connections in use");
            assertThat(metrics(proxy)).contains("pgwarden_client_wait_seconds_bucket")
                    .contains("pgwarden_timeouts_total{kind=\"query_wait\"} 1");
            assertThat(show(admin, "SHOW EVENTS")).anyMatch(r -> r.get("kind").equals("pool_exhausted"));
            for (Connection c : holders) {
                c.close();
            }
            waiter.close();
        }
    }

    @Test
    void aTerminatedBackendIsRecordedWithItsReasonClass() throws Exception {
        try (TestProxy proxy = start("pool_mode: transaction"); Connection admin = admin(proxy);
             Connection c = proxy.connect()) {
            c.createStatement().execute("SELECT 1");
            int pid = show(admin, "SHOW SERVERS").stream().mapToInt(r -> Integer.parseInt(r.get("remote_pid")))
                    .findFirst().orElseThrow();
            try (Connection su = TestPostgres.shared().superuser(); Statement s = su.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> show(admin, "SHOW EVENTS").stream()
                    .anyMatch(r -> r.get("kind").equals("backend_lost")
                            && r.get("detail").contains("terminated by administrator (57P01)")));
            assertThat(metrics(proxy)).containsPattern(
                    "pgwarden_backend_losses_total\\{reason=\"terminated_by_administrator\"} [1-9]");
        }
    }

    @Test
    void readyFollowsPostgresGoingAwayAndComingBack() throws Exception {
        try (RestartablePostgres pg = RestartablePostgres.start();
             TestProxy proxy = TestProxy.fromYaml(() -> yaml("pool_mode: transaction"), pg.port())) {
            assertThat(http(proxy, "/health").statusCode()).isEqualTo(200);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> http(proxy, "/ready").statusCode() == 200);
            pg.down();
            try {
                // A login tried while PostgreSQL was still shutting down says "closed the connection during
                // login"; once it is down, the reason is the refused connect.
                Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    HttpResponse<String> ready = http(proxy, "/ready");
                    assertThat(ready.statusCode()).isEqualTo(503);
                    assertThat(ready.body()).contains("\"ready\":false").contains("could not connect");
                });
            } finally {
                pg.up();
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> http(proxy, "/ready").statusCode() == 200);
        }
    }

    @Test
    void reloadAppliesABiggerPoolWithoutReconnectsAndRejectsABadFile() throws Exception {
        AtomicReference<String> defaults = new AtomicReference<>("pool_mode: transaction\nmax_size: 1\nquery_wait_timeout: 500ms");
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml(defaults.get()), TestPostgres.shared().port());
             Connection admin = admin(proxy); Connection first = proxy.connect(); Connection second = proxy.connect()) {
            first.setAutoCommit(false);
            first.createStatement().execute("SELECT 1");
            assertThatThrownBy(() -> second.createStatement().execute("SELECT 2"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("53300"));

            defaults.set("pool_mode: transaction\nmax_size: 2\nquery_wait_timeout: 500ms");
            admin.createStatement().execute("RELOAD");
            second.createStatement().execute("SELECT 2");
            assertThat(first.isValid(2)).as("nobody was disconnected").isTrue();

            defaults.set("pool_mode: transaction\nmax_szie: 5");
            assertThatThrownBy(() -> admin.createStatement().execute("RELOAD"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("configuration not reloaded").contains("defaults.max_szie: unknown key"));
            assertThat(show(admin, "SHOW CONFIG")).anyMatch(r -> r.get("key").equals("defaults.max_size")
                    && r.get("value").equals("2"));
            assertThat(metrics(proxy)).contains("pgwarden_config_reloads_total{result=\"ok\"} 1")
                    .contains("pgwarden_config_reloads_total{result=\"failed\"} 1");
            first.commit();
        }
    }

    @Test
    void pauseHoldsNewTransactionsUntilResumeWithoutErrors() throws Exception {
        try (TestProxy proxy = start("pool_mode: transaction\nquery_wait_timeout: 1s"); Connection admin = admin(proxy);
             Connection c = proxy.connect()) {
            c.createStatement().execute("SELECT 1");
            admin.createStatement().execute("PAUSE");
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 5")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            // Longer than query_wait_timeout: a paused pool does not time its waiters out.
            Awaitility.await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3)).until(() -> !held.isDone());
            admin.createStatement().execute("RESUME");
            assertThat(held.get(5, TimeUnit.SECONDS)).isEqualTo(5);
        }
    }

    /** SHOW LEAKS reports by each database's own idle_in_transaction_warning, as the log does. */
    @Test
    void showLeaksUsesTheDatabasesOwnWarningThreshold() throws Exception {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  pool_mode: transaction
                  client:
                    idle_in_transaction_warning: 1h
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                    client:
                      idle_in_transaction_warning: 200ms
                users:
                  app:
                    password: ${APP_PASSWORD}
                  admin:
                    password: admin-secret
                admin:
                  users: [admin]
                """;
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port());
             Connection admin = admin(proxy); Connection sleeper = proxy.connect()) {
            sleeper.setAutoCommit(false);
            try (Statement s = sleeper.createStatement()) {
                s.execute("SELECT 'left open'");
            }
            List<Map<String, String>> leaks = Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> show(admin, "SHOW LEAKS"), rows -> !rows.isEmpty());
            assertThat(leaks.get(0).get("xact_start_statement")).startsWith("SELECT 'left open'");
            sleeper.rollback();
        }
    }

    /**
     * A scrape reads what is there: it creates no pool and opens no server connection (only /ready probes), and
     * it counts clients by state without touching each client.
     */
    @Test
    void aMetricsScrapeOpensNoConnectionAndCreatesNoPool() throws Exception {
        try (TestProxy proxy = start("pool_mode: transaction")) {
            java.sql.Timestamp before = TestPostgres.shared().clock();
            assertThat(proxy.application().pools().pools()).isEmpty();

            String text = metrics(proxy);

            assertThat(text).contains("pgwarden_timeouts_total");
            assertThat(proxy.application().pools().pools()).as("pools after a scrape").isEmpty();
            assertThat(TestPostgres.shared().backendsSince(before, "app")).isZero();

            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("SELECT 1");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> metrics(proxy).contains(
                        "pgwarden_clients{database=\"appdb\",state=\"idle_in_transaction\",user=\"app\"} 1"));
                c.rollback();
            }
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> metrics(proxy).contains(
                    "pgwarden_clients{database=\"appdb\",state=\"idle_in_transaction\",user=\"app\"} 0"));
            assertThat(http(proxy, "/ready").statusCode()).as("/ready still probes").isEqualTo(200);
        }
    }
}
