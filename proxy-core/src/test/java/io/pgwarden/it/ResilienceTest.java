package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 4: backends die in every way PostgreSQL and networks make them die, and clients do not notice
 * (between transactions) or get one clean error and keep their connection (mid-transaction).
 * Each test prints one line with its operations, errors and recovery time for the record.
 */
class ResilienceTest {

    /** Workload think time between transactions, part of the scenario (not synchronisation). */
    private static void think(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void createTable(TestProxy proxy, String table) throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + table);
            s.execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, client int)");
        }
    }

    private static int terminate(String condition) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                     + condition)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void idleBackendsTerminatedEveryTwoSecondsCostClientsNothing() throws Exception {
        int clients = 50;
        long runMillis = 30_000;
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 20\nquery_wait_timeout: 30s")) {
            createTable(proxy, "terminated_idle");
            Timestamp since = TestPostgres.shared().clock();
            AtomicLong ids = new AtomicLong();
            AtomicInteger errors = new AtomicInteger();
            List<String> errorMessages = new java.util.concurrent.CopyOnWriteArrayList<>();
            Set<Long> committed = ConcurrentHashMap.newKeySet();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(runMillis);
            // A loaded machine leaves fewer backends idle for a whole second, so the run goes on (bounded) until
            // enough were killed for the assertions to mean something.
            long hardDeadline = deadline + TimeUnit.SECONDS.toNanos(60);
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(clients + 1);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int client = i;
                futures.add(pool.submit(() -> {
                    try (Connection c = proxy.connect();
                         PreparedStatement insert = c.prepareStatement("INSERT INTO terminated_idle VALUES (?, ?)")) {
                        c.setAutoCommit(false);
                        while (!done.get()) {
                            long id = ids.incrementAndGet();
                            try {
                                insert.setLong(1, id);
                                insert.setInt(2, client);
                                insert.executeUpdate();
                                c.commit();
                                committed.add(id);
                            } catch (SQLException e) {
                                errors.incrementAndGet();
                                errorMessages.add(e.getSQLState() + " " + e.getMessage());
                                c.rollback();
                            }
                            // Long enough that fewer than max_size backends are busy even on a loaded machine: the
                            // rest must sit idle for the killer's full second (LIFO reuse keeps them there).
                            think(60 + client % 60);
                        }
                    }
                    return null;
                }));
            }
            AtomicInteger terminated = new AtomicInteger();
            futures.add(pool.submit(() -> {
                try {
                    while (System.nanoTime() < deadline || (terminated.get() < 3 && System.nanoTime() < hardDeadline)) {
                        // Idle for a second: sitting in the pool. A backend PostgreSQL shows as idle only because it
                        // has not yet read the request just sent to it may already be running that request when the
                        // signal lands; such a request is not replayed (the client gets one 08006), see the README.
                        terminated.addAndGet(terminate("usename = 'app' AND datname = 'appdb' AND state = 'idle' "
                                + "AND state_change < now() - interval '1 second' AND backend_start >= '" + since + "'"));
                        think(2_000);
                    }
                } finally {
                    done.set(true);
                }
                return null;
            }));
            for (Future<?> f : futures) {
                f.get(runMillis + 120_000, TimeUnit.MILLISECONDS);
            }
            pool.shutdown();
            long rows = count(proxy, "terminated_idle");
            System.out.printf("fault 1 (terminate idle every 2 s for %d s): %d transactions committed, %d backends "
                    + "terminated, %d client errors %s%n", runMillis / 1000, committed.size(), terminated.get(),
                    errors.get(), errorMessages.stream().limit(3).toList());
            assertThat(terminated.get()).as("backends terminated").isGreaterThanOrEqualTo(3);
            // The kill can land on a backend the snapshot saw idle but pgwarden has just handed a request (it
            // answered the Sync sent ahead of it): that request may have run, so it cannot be replayed. Every
            // other kill must cost clients nothing.
            Map<String, Double> lost = clientErrorsFromServerLoss(proxy);
            assertThat(lost.get("request_unchecked") + lost.get("idle_in_transaction"))
                    .as("client errors not explained by a kill of a running request: %s", errorMessages).isZero();
            assertThat((double) errors.get()).as("client errors: %s", errorMessages)
                    .isEqualTo(lost.get("request_after_check"));
            assertThat(rows).isEqualTo(committed.size());
        }
    }

    @Test
    void aBackendLostMidTransactionCostsOneErrorAndTheClientCarriesOn() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2")) {
            createTable(proxy, "lost_mid_transaction");
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("INSERT INTO lost_mid_transaction VALUES (1, 0)");
                int pid;
                try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                assertThat(terminate("pid = " + pid)).isEqualTo(1);
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> clientErrorsFromServerLoss(proxy).get("idle_in_transaction") == 1.0);

                assertThatThrownBy(() -> s.execute("INSERT INTO lost_mid_transaction VALUES (2, 0)"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).as("PostgreSQL's own cause").isEqualTo("57P01");
                            assertThat(e.getMessage()).contains("terminating connection due to administrator command")
                                    .contains("the transaction was rolled back");
                        });
                c.rollback();
                s.execute("INSERT INTO lost_mid_transaction VALUES (3, 0)");
                c.commit();
                try (ResultSet rs = s.executeQuery("SELECT array_agg(id) FROM lost_mid_transaction")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("{3}");
                }
            }
            assertThat(clientErrorsFromServerLoss(proxy).get("request_unchecked")).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"transaction", "session"})
    void aCommitThatFindsItsTransactionLostThrowsAndTheNextTransactionOnTheConnectionWorks(String mode)
            throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 2")) {
            createTable(proxy, "lost_commit_" + mode);
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                // Past pgjdbc's prepareThreshold, so its COMMIT is a named server-side statement too.
                for (int i = 0; i < 6; i++) {
                    s.execute("SELECT 1");
                    c.commit();
                }
                s.execute("INSERT INTO lost_commit_" + mode + " VALUES (1, 0)");
                assertThat(terminate("pid = " + backendPid(s))).isEqualTo(1);
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> clientErrorsFromServerLoss(proxy).get("idle_in_transaction") == 1.0);

                assertThatThrownBy(c::commit).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("57P01"));
                s.execute("INSERT INTO lost_commit_" + mode + " VALUES (2, 0)");
                c.commit();
                s.execute("INSERT INTO lost_commit_" + mode + " VALUES (3, 0)");
                assertThat(terminate("pid = " + backendPid(s))).isEqualTo(1);
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> clientErrorsFromServerLoss(proxy).get("idle_in_transaction") == 2.0);
                c.rollback();
                s.execute("INSERT INTO lost_commit_" + mode + " VALUES (4, 0)");
                c.commit();
                try (ResultSet rs = s.executeQuery("SELECT array_agg(id ORDER BY id) FROM lost_commit_" + mode)) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("{2,4}");
                }
                c.commit();
            }
        }
    }

    private static int backendPid(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aRequestRunningWhenItsServerIsKilledGetsOneErrorNotAReplay() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2\nserver:\n  replay_check_after: 0s");
             Connection c = proxy.connect(); Statement s = c.createStatement()) {
            ExecutorService killer = Executors.newSingleThreadExecutor();
            try {
                // The Sync ahead of the request is answered before pg_sleep starts: the server had the request.
                Future<Integer> killed = killer.submit(() -> Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> terminate("usename = 'app' AND query = 'SELECT pg_sleep(30)' "
                                + "AND state = 'active'"), n -> n == 1));
                assertThatThrownBy(() -> s.execute("SELECT pg_sleep(30)"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).as("PostgreSQL's own cause").isEqualTo("57P01");
                            assertThat(e.getMessage()).contains("may or may not have been executed");
                        });
                assertThat(killed.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            } finally {
                killer.shutdownNow();
            }
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            Map<String, Double> lost = clientErrorsFromServerLoss(proxy);
            assertThat(lost.get("request_after_check")).isEqualTo(1.0);
            assertThat(lost.get("request_unchecked")).isZero();
            assertThat(counter(proxy, "pgwarden_replayed_requests", null).getOrDefault("", 0.0)).as("replays").isZero();
        }
    }

    @Test
    void serverIdleSessionTimeoutIsInvisibleToClients() throws Exception {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS idler");
            s.execute("CREATE ROLE idler LOGIN PASSWORD 'idler-secret'");
            s.execute("ALTER ROLE idler SET idle_session_timeout = '1s'");
            s.execute("GRANT ALL ON DATABASE appdb TO idler");
        }
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 4", "",
                TestPostgres.shared().port(), "idler:\n  password: idler-secret")) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            AtomicInteger done = new AtomicInteger();
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(pool.submit(() -> {
                    try (Connection c = proxy.connect("idler", "idler-secret")) {
                        for (int t = 0; t < 4; t++) {
                            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                                rs.next();
                                done.incrementAndGet();
                            }
                            think(2_000);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            System.out.printf("fault 2 (idle_session_timeout 1s, think 2s): %d transactions, 0 errors%n", done.get());
            assertThat(done.get()).isEqualTo(32);
        }
    }

    @Test
    void postgresRestartCostsEachClientAtMostOneErrorAndLosesNoAcknowledgedCommit() throws Exception {
        int clients = 50;
        try (RestartablePostgres pg = RestartablePostgres.start();
             TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 20\nquery_wait_timeout: 30s", "",
                     pg.port(), "")) {
            createTable(proxy, "restart_commits");
            AtomicLong ids = new AtomicLong();
            Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
            ConcurrentHashMap<Integer, AtomicInteger> errorsPerClient = new ConcurrentHashMap<>();
            List<String> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
            AtomicLong lastSuccessNanos = new AtomicLong();
            AtomicLong firstSuccessAfterUpNanos = new AtomicLong();
            AtomicLong upNanos = new AtomicLong(Long.MAX_VALUE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int client = i;
                futures.add(pool.submit(() -> {
                    try (Connection c = proxy.connect();
                         PreparedStatement insert = c.prepareStatement("INSERT INTO restart_commits VALUES (?, ?)")) {
                        c.setAutoCommit(false);
                        while (System.nanoTime() < deadline) {
                            long id = ids.incrementAndGet();
                            try {
                                insert.setLong(1, id);
                                insert.setInt(2, client);
                                insert.executeUpdate();
                                c.commit();
                                acknowledged.add(id);
                                long now = System.nanoTime();
                                lastSuccessNanos.set(now);
                                if (now > upNanos.get()) {
                                    firstSuccessAfterUpNanos.compareAndSet(0, now);
                                }
                            } catch (SQLException e) {
                                errorsPerClient.computeIfAbsent(client, k -> new AtomicInteger()).incrementAndGet();
                                // A fast shutdown ends backends with 57P01, which the client gets as the cause.
                                if (!"08006".equals(e.getSQLState()) && !"57P01".equals(e.getSQLState())) {
                                    unexpected.add(e.getSQLState() + " " + e.getMessage());
                                }
                                c.rollback();
                            }
                            think(10);
                        }
                    }
                    return null;
                }));
            }
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> acknowledged.size() > 200);
            long downAt = System.nanoTime();
            pg.down();
            pg.up();
            upNanos.set(System.nanoTime());
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            long recoveryMillis = (firstSuccessAfterUpNanos.get() - upNanos.get()) / 1_000_000;
            int errors = errorsPerClient.values().stream().mapToInt(AtomicInteger::get).sum();
            int worst = errorsPerClient.values().stream().mapToInt(AtomicInteger::get).max().orElse(0);
            Set<Long> stored = ids(proxy);
            System.out.printf("fault 3 (PostgreSQL restart, %d ms down): %d commits acknowledged, %d client errors "
                    + "(at most %d per client, %d clients affected), first commit %d ms after PostgreSQL was up%n",
                    (upNanos.get() - downAt) / 1_000_000, acknowledged.size(), errors, worst, errorsPerClient.size(),
                    recoveryMillis);
            assertThat(unexpected).as("errors other than a lost connection's").isEmpty();
            assertThat(worst).as("errors of the worst client").isLessThanOrEqualTo(1);
            assertThat(stored).as("every acknowledged commit is stored").containsAll(acknowledged);
            assertThat(recoveryMillis).as("service back after PostgreSQL accepts connections").isBetween(0L, 2_000L);
        }
    }

    @Test
    void postgresDownLongerThanQueryWaitTimeoutGivesAClearErrorAndRecoversByItself() throws Exception {
        try (RestartablePostgres pg = RestartablePostgres.start();
             TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 5\nquery_wait_timeout: 1s", "",
                     pg.port(), "");
             Connection client = proxy.connect()) {
            assertThat(client.isValid(5)).isTrue();
            pg.down();
            try {
                assertThatThrownBy(() -> client.createStatement().executeQuery("SELECT 1"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("no server connection available");
                            assertThat(((org.postgresql.util.PSQLException) e).getServerErrorMessage().getDetail())
                                    .contains("could not connect to 127.0.0.1:" + pg.port());
                        });
                // pgwarden authenticates clients itself; this driver setting skips pgjdbc's own setup query.
                Properties noSetupQuery = new Properties();
                noSetupQuery.setProperty("assumeMinServerVersion", "10");
                try (Connection newcomer = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, noSetupQuery)) {
                    assertThat(newcomer.getMetaData().getDatabaseProductVersion())
                            .as("pgwarden logs clients in while PostgreSQL is down").startsWith("17");
                }
            } finally {
                pg.up();
            }
            long up = System.nanoTime();
            Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                try (Statement s = client.createStatement(); ResultSet rs = s.executeQuery("SELECT 2")) {
                    return rs.next() && rs.getInt(1) == 2;
                }
            });
            System.out.printf("fault 4 (PostgreSQL down > query_wait_timeout): clear 53300 error, new client "
                    + "logged in meanwhile, recovered %d ms after PostgreSQL was up%n", (System.nanoTime() - up) / 1_000_000);
        }
    }

    @Test
    void aBlackholedServerIsNeverHandedToAClient() throws Exception {
        try (FaultRelay relay = FaultRelay.start("127.0.0.1", TestPostgres.shared().port());
             TestProxy proxy = TestProxy.start("""
                     pool_mode: transaction
                     max_size: 2
                     query_wait_timeout: 20s
                     server:
                       check_delay: 0s
                       check_timeout: 500ms
                       connect_timeout: 1s
                     """, "", relay.port(), "");
             Connection c = proxy.connect()) {
            assertThat(c.isValid(5)).isTrue();
            relay.stopForwarding();
            long started = System.nanoTime();
            java.util.concurrent.CompletableFuture<Integer> query = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 3")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            // While blackholed, checks of the old backend and logins of new ones time out; nothing reaches the client.
            Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> !query.isDone());
            relay.resumeForwarding();
            assertThat(query.get(15, TimeUnit.SECONDS)).isEqualTo(3);
            System.out.printf("fault 5 (blackhole via relay, check_timeout 500ms): query answered correctly %d ms "
                    + "after it was sent, 2 s of it blackholed%n", (System.nanoTime() - started) / 1_000_000);
        }
    }

    @Test
    void sessionModeRestoresAnIdleSessionOnANewBackendOrSaysWhyItCannot() throws Exception {
        Properties named = new Properties();
        named.setProperty("prepareThreshold", "1");
        try (TestProxy proxy = TestProxy.start("pool_mode: session\nmax_size: 4");
             Connection plain = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, named);
             Connection withTemp = proxy.connect()) {
            try (Statement s = plain.createStatement()) {
                s.execute("SET statement_timeout = '7654ms'");
            }
            PreparedStatement prepared = plain.prepareStatement("SELECT ?::int + 100");
            prepared.setInt(1, 1);
            prepared.executeQuery().close();
            int oldPid = pid(plain);
            try (Statement s = withTemp.createStatement()) {
                s.execute("CREATE TEMP TABLE scratch (v int)");
            }
            int tempPid = pid(withTemp);

            assertThat(terminate("pid IN (" + oldPid + ", " + tempPid + ")")).isEqualTo(2);

            Awaitility.await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                    .until(() -> single(plain, "SHOW statement_timeout").equals("7654ms"));
            assertThat(pid(plain)).isNotEqualTo(oldPid);
            prepared.setInt(1, 5);
            try (ResultSet rs = prepared.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(105);
            }
            assertThatThrownBy(() -> single(withTemp, "SELECT count(*) FROM scratch"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("08006");
                        assertThat(e.getMessage()).contains("cannot be restored").contains("temporary table");
                    });
        }
    }

    @Test
    void minSizeIsRefilledWithinOneHealthCheckIntervalAfterItsBackendsAreTerminated() throws Exception {
        Timestamp since = TestPostgres.shared().clock();
        try (TestProxy proxy = TestProxy.start("""
                pool_mode: transaction
                min_size: 3
                max_size: 5
                server:
                  health_check_interval: 1s
                """)) {
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> TestPostgres.shared().backendsSince(since, "app") == 3);
            Timestamp before = TestPostgres.shared().clock();
            assertThat(terminate("usename = 'app' AND datname = 'appdb' AND backend_start >= '" + since + "'"))
                    .isEqualTo(3);
            long killed = System.nanoTime();
            // A reconnect and login over TCP, so only "not absurdly late" here; that the refill starts the moment
            // the FATAL arrives, not at a janitor round, is tested without a clock in pool.MinSizeRefillTest.
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> TestPostgres.shared().backendsSince(before, "app") == 3);
            System.out.printf("fault 7 (min_size 3 terminated): back to 3 in %d ms%n",
                    (System.nanoTime() - killed) / 1_000_000);
        }
    }

    @Test
    void backendsPastTheirLifetimeAreRetiredAndIdleOnesAboveMinSizeClosed() throws Exception {
        try (TestProxy proxy = TestProxy.start("""
                pool_mode: transaction
                max_size: 3
                server:
                  lifetime: 1s
                  idle_timeout: 500ms
                  health_check_interval: 1s
                """); Connection a = proxy.connect(); Connection b = proxy.connect(); Connection c = proxy.connect()) {
            int first = pid(a);
            // With lifetime 1s (minus up to 20% jitter) the backend that served the first query is retired at
            // its next release: the same client is then served by another process.
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> pid(a) != first);
            // Three transactions at once need three backends ...
            for (Connection conn : List.of(a, b, c)) {
                conn.setAutoCommit(false);
                pid(conn);
            }
            var pool = proxy.application().pools().pools().iterator().next();
            assertThat(pool.size()).isEqualTo(3);
            for (Connection conn : List.of(a, b, c)) {
                conn.commit();
            }
            // ... and with min_size 0 all of them close once idle longer than idle_timeout.
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> pool.size() == 0);
        }
    }

    private static int pid(Connection c) throws SQLException {
        return Integer.parseInt(single(c, "SELECT pg_backend_pid()::text"));
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long count(TestProxy proxy, String table) throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Set<Long> ids(TestProxy proxy) throws SQLException {
        Set<Long> ids = new java.util.HashSet<>();
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM restart_commits")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    private static Map<String, Double> clientErrorsFromServerLoss(TestProxy proxy) {
        return counter(proxy, "pgwarden_client_errors_from_server_loss", "during");
    }

    /** A counter's values by its label {@code label}; an unlabelled counter ({@code label} null) is under "". */
    private static Map<String, Double> counter(TestProxy proxy, String name, String label) {
        Map<String, Double> values = new java.util.HashMap<>();
        for (var snapshot : proxy.application().context().metrics().registry().scrape()) {
            if (snapshot.getMetadata().getName().equals(name)) {
                for (var point : ((io.prometheus.metrics.model.snapshots.CounterSnapshot) snapshot).getDataPoints()) {
                    values.put(label == null ? "" : point.getLabels().get(label), point.getValue());
                }
            }
        }
        return values;
    }
}
