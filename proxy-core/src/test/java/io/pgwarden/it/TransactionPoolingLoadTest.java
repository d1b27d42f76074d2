package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Acceptance 2: hundreds of clients share a handful of backends in transaction mode. */
class TransactionPoolingLoadTest {

    private static final int CLIENTS = 200;
    private static final int TRANSACTIONS_EACH = 50;
    private static final int MAX_SIZE = 10;

    @Test
    void twoHundredClientsShareTenBackendsAndEveryTransactionCommits() throws Exception {
        // Backends of proxies from earlier tests may still be exiting; count only the ones opened from here on.
        Timestamp testStart = TestPostgres.shared().clock();
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: " + MAX_SIZE
                + "\nquery_wait_timeout: 60s")) {
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS counters");
                s.execute("CREATE TABLE counters (client int PRIMARY KEY, n int NOT NULL)");
            }
            AtomicInteger maxSeen = new AtomicInteger();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> watchBackends(testStart, running, maxSeen));
            watcher.start();

            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int client = i;
                results.add(clients.submit(() -> {
                    // What is asserted is that every transaction commits on at most ten backends, not how fast 200
                    // logins queue for them: a loaded machine takes longer than the driver's default 10 s.
                    Properties slowLogin = new Properties();
                    slowLogin.setProperty("connectTimeout", "120");
                    try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, slowLogin)) {
                        c.setAutoCommit(false);
                        try (PreparedStatement insert = c.prepareStatement("INSERT INTO counters VALUES (?, 0)")) {
                            insert.setInt(1, client);
                            insert.executeUpdate();
                        }
                        c.commit();
                        try (PreparedStatement bump = c.prepareStatement(
                                "UPDATE counters SET n = n + 1 WHERE client = ?")) {
                            for (int t = 0; t < TRANSACTIONS_EACH; t++) {
                                bump.setInt(1, client);
                                assertThat(bump.executeUpdate()).isEqualTo(1);
                                c.commit();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get(5, TimeUnit.MINUTES);
            }
            clients.shutdown();
            running.set(false);
            watcher.join();

            try (Connection c = proxy.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*), sum(n), min(n) FROM counters")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(CLIENTS);
                assertThat(rs.getLong(2)).isEqualTo((long) CLIENTS * TRANSACTIONS_EACH);
                assertThat(rs.getInt(3)).isEqualTo(TRANSACTIONS_EACH);
                s.execute("DROP TABLE counters");
            }
            assertThat(maxSeen.get()).as("backends of user app seen in pg_stat_activity")
                    .isBetween(1, MAX_SIZE);
        }
    }

    private static void watchBackends(Timestamp since, AtomicBoolean running, AtomicInteger maxSeen) {
        try {
            while (running.get()) {
                maxSeen.accumulateAndGet(TestPostgres.shared().backendsSince(since, "app"), Math::max);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
