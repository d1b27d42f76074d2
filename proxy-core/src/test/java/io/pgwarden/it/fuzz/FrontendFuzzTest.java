package io.pgwarden.it.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: mutated frontend streams (startup, SCRAM, md5 and cleartext logins, simple and extended query, COPY
 * both ways) sent to one pgwarden in front of the real PostgreSQL, in transaction mode with a small pool and in
 * session mode. Whatever a case sends, it may cost only its own connection: a control client must keep working,
 * no backend may be lost but by pgwarden discarding it, nothing may be logged that shows a fault, nothing may
 * leak and memory must stay flat.
 *
 * <p>Runs for {@code -Dpgwarden.fuzz.seconds} (120 by default) or {@code -Dpgwarden.fuzz.cases}, whichever ends
 * first, with {@code -Dpgwarden.fuzz.workers} clients at once (2); {@code -Dpgwarden.fuzz.seed} replays a run, and
 * with {@code -Dpgwarden.fuzz.case} one case of it.
 */
class FrontendFuzzTest {

    private static final long CHECK_EVERY_MILLIS = 10_000;
    /** Growth of retained heap plus direct memory from the first sample to any later one. */
    private static final long MEMORY_GROWTH_BOUND = 64L << 20;

    private static TestProxy proxy;

    @BeforeAll
    static void startProxy() throws SQLException {
        TestPostgres postgres = TestPostgres.shared();
        try (Connection c = DriverManager.getConnection(postgres.directUrl("appdb"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS fuzz_sink (line text)");
            s.execute("GRANT ALL ON fuzz_sink TO PUBLIC");
        }
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                  worker_threads: 2
                  # Every mangled login fails from 127.0.0.1: throttled, the cases would wait out its delays.
                  login_throttle: {failures: 0}
                defaults:
                  pool_mode: transaction
                  max_size: 3
                  query_wait_timeout: 20s
                  # The machine running the tests may be loaded: a slow PostgreSQL login is not the fuzzer's find.
                  server:
                    connect_timeout: 20s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                  sessiondb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                    dbname: appdb
                    pool_mode: session
                    max_size: 10
                users:
                  app:
                    password: ${APP_PASSWORD}
                  md5user:
                    password: %s
                    auth: md5
                  trustuser:
                    password: trust-secret
                    auth: cleartext
                """.formatted(TestPostgres.MD5_PASSWORD);
        proxy = TestProxy.fromYaml(() -> yaml, postgres.port());
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void mutatedFrontendStreamsCostOnlyTheirSenderItsConnection() throws Exception {
        long seed = property("pgwarden.fuzz.seed", new SecureRandom().nextLong());
        Long onlyCase = System.getProperty("pgwarden.fuzz.case") == null ? null : property("pgwarden.fuzz.case", 0);
        long seconds = property("pgwarden.fuzz.seconds", 120);
        long maxCases = property("pgwarden.fuzz.cases", Long.MAX_VALUE);
        int clients = (int) property("pgwarden.fuzz.workers", 2);
        FuzzCampaign campaign = new FuzzCampaign(proxy, seed, onlyCase, maxCases, clients);
        System.out.println("fuzz seed=" + seed + " replay with -Dpgwarden.fuzz.seed=" + seed
                + (onlyCase != null ? " -Dpgwarden.fuzz.case=" + onlyCase : "") + " (" + seconds + " s"
                + (maxCases < Long.MAX_VALUE ? " or " + maxCases + " cases" : "") + ", "
                + (onlyCase != null ? 1 : clients) + " clients)");

        long started = System.nanoTime();
        try (ProxyWatch watch = new ProxyWatch(proxy.application(), campaign.recentCases())) {
            campaign.control("before the first case");
            long memoryAtStart = ProxyWatch.retainedBytes();
            long rssAtStart = ProxyWatch.rssBytes();
            long memoryPeak = memoryAtStart;
            campaign.start(started + TimeUnit.SECONDS.toNanos(seconds));
            for (int round = 1; !campaign.awaitEnd(CHECK_EVERY_MILLIS); round++) {
                check(watch, campaign, campaign.recentCases());
                long memory = ProxyWatch.retainedBytes();
                memoryPeak = Math.max(memoryPeak, memory);
                if (memory - memoryAtStart > MEMORY_GROWTH_BOUND) {
                    campaign.fail("retained memory grew by " + mb(memory - memoryAtStart) + " MB (bound "
                            + mb(MEMORY_GROWTH_BOUND) + ") after " + campaign.casesDone() + " cases");
                }
                if (round % 6 == 0) {
                    System.out.printf("fuzz: %d cases in %.0f s, retained memory %d MB%n", campaign.casesDone(),
                            (System.nanoTime() - started) / 1e9, mb(memory));
                }
            }
            campaign.control("after the last case");
            // Every fuzz connection is closed: the proxy must let go of all of their sessions.
            try {
                await("all fuzz clients' sessions gone").atMost(Duration.ofSeconds(30))
                        .until(() -> proxy.application().context().sessions().all().isEmpty());
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                campaign.fail("sessions still open 30 s after every fuzz client closed: "
                        + proxy.application().context().sessions().all());
            }
            check(watch, campaign, () -> "(after the last case)");
            long memory = ProxyWatch.retainedBytes();
            memoryPeak = Math.max(memoryPeak, memory);
            if (memory - memoryAtStart > MEMORY_GROWTH_BOUND) {
                campaign.fail("retained memory grew by " + mb(memory - memoryAtStart) + " MB over the run");
            }
            double elapsed = (System.nanoTime() - started) / 1e9;
            System.out.printf("fuzz seed=%d: %d cases in %.1f s (%.0f/s), %d control checks, retained memory %d MB"
                            + " at start, %d MB peak, %d MB at end, RSS %d MB to %d MB, losses %s, tolerated: %s; %s%n",
                    seed, campaign.casesDone(), elapsed, campaign.casesDone() / elapsed, campaign.controlChecks(),
                    mb(memoryAtStart), mb(memoryPeak), mb(memory), mb(rssAtStart), mb(ProxyWatch.rssBytes()),
                    watch.losses(), watch.tolerated(), campaign.failures().isEmpty() ? "no failures" : "FAILED");
        }
        assertThat(campaign.failures()).as("fuzz seed=" + seed + " (replay with -Dpgwarden.fuzz.seed=" + seed + ")")
                .isEmpty();
        assertThat(campaign.casesDone()).as("cases run").isPositive();
    }

    private static void check(ProxyWatch watch, FuzzCampaign campaign, Supplier<String> inFlight) {
        watch.problems().forEach(campaign::fail);
        for (String leak : ProxyWatch.leaks()) {
            campaign.fail(leak + "\n  while running: " + inFlight.get());
        }
    }

    /** Unlike Long.getLong, a value that is not a number fails instead of quietly becoming the default. */
    private static long property(String name, long otherwise) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? otherwise : Long.parseLong(value.trim());
    }

    private static long mb(long bytes) {
        return bytes >> 20;
    }
}
