package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.pool.BackendPool;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Issue 16, acceptance 4: PostgreSQL restarts under clients of looked-up users. */
class AuthQueryRestartTest {

    private static final int USERS = 50;

    @ParameterizedTest
    @ValueSource(strings = {"transaction", "session"})
    void idleClientsSeeNothingAndLoginsDuringTheRestartWaitForPostgresql(String poolMode) throws Exception {
        try (RestartablePostgres pg = RestartablePostgres.start()) {
            try (Connection c = DriverManager.getConnection(pg.url("postgres"), "postgres", "");
                 Statement s = c.createStatement()) {
                s.execute("CREATE ROLE h16b_super SUPERUSER LOGIN PASSWORD 'super-pw'");
                for (int i = 0; i < USERS; i++) {
                    s.execute("CREATE ROLE h16b_u" + i + " LOGIN PASSWORD 'pw-" + i + "'");
                }
                s.execute("CREATE ROLE h16b_late LOGIN PASSWORD 'late-pw'");
            }
            String yaml = """
                    listen: {host: 127.0.0.1, port: 0, worker_threads: 2}
                    defaults:
                      pool_mode: %s
                      query_wait_timeout: 30s
                    databases:
                      appdb:
                        host: 127.0.0.1
                        port: ${PG_PORT}
                    auth:
                      user: h16b_super
                      password: super-pw
                      cache_ttl: 1s
                    """.formatted(poolMode);
            try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, pg.port());
                 LogCapture logs = new LogCapture()) {
                List<Connection> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < USERS; i++) {
                        Connection c = proxy.connect("h16b_u" + i, "pw-" + i);
                        clients.add(c);
                        assertThat(AuthQueryTest.currentUser(c)).isEqualTo("h16b_u" + i);
                    }
                    // Past the TTL: what the restart finds cached is expired, as after any long enough outage.
                    Thread.sleep(1_100); // the TTL is the subject here, not a stand-in for synchronisation
                    long downAt = System.nanoTime();
                    pg.down();
                    Properties noSetupQuery = new Properties();
                    noSetupQuery.setProperty("assumeMinServerVersion", "10");
                    CompletableFuture<String> known = CompletableFuture.supplyAsync(() -> loginAndAsk(proxy, "h16b_u0",
                            "pw-0", noSetupQuery));
                    CompletableFuture<String> late = CompletableFuture.supplyAsync(() -> loginAndAsk(proxy, "h16b_late",
                            "late-pw", noSetupQuery));
                    // Both are in their wait while PostgreSQL is down: the lookup pool has failed to connect.
                    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> lookupPool(proxy) != null
                            && lookupPool(proxy).lastConnectError() != null);
                    Awaitility.await().atMost(Duration.ofSeconds(10))
                            .until(() -> !logs.lines("event=auth_lookup_stale").isEmpty());
                    assertThat(late).isNotDone();
                    pg.up();
                    long upAt = System.nanoTime();
                    assertThat(late.get(30, TimeUnit.SECONDS)).isEqualTo("h16b_late");
                    assertThat(known.get(30, TimeUnit.SECONDS)).isEqualTo("h16b_u0");
                    long lateMillis = (System.nanoTime() - upAt) / 1_000_000;
                    List<String> errors = new ArrayList<>();
                    for (int i = 0; i < USERS; i++) {
                        try {
                            assertThat(AuthQueryTest.currentUser(clients.get(i))).isEqualTo("h16b_u" + i);
                        } catch (SQLException e) {
                            errors.add("h16b_u" + i + ": " + e.getSQLState() + " " + e.getMessage());
                        }
                    }
                    System.out.printf("auth_query restart (%s mode): PostgreSQL down %d ms; %d idle looked-up clients, "
                                    + "%d errors; a login started while it was down completed %d ms after it was up%n",
                            poolMode, (upAt - downAt) / 1_000_000, USERS, errors.size(), lateMillis);
                    assertThat(errors).as("idle clients across the restart").isEmpty();
                    assertThat(logs.lines("event=auth_lookup_stale")).as("logged once per user").hasSize(1);
                } finally {
                    for (Connection c : clients) {
                        c.close();
                    }
                }
            }
        }
    }

    private static BackendPool lookupPool(TestProxy proxy) {
        return proxy.application().pools().pools().stream()
                .filter(p -> p.key().user().equals("h16b_super")).findFirst().orElse(null);
    }

    private static String loginAndAsk(TestProxy proxy, String user, String password, Properties extra) {
        try (Connection c = proxy.connect("appdb", user, password, extra)) {
            return AuthQueryTest.currentUser(c);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getSQLState() + " " + e.getMessage(), e);
        }
    }
}
