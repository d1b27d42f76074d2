package io.pgwarden.it.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.net.ConnectException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
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

    private static final int CONTROL_EVERY = 50;
    /** Cases per client named when a fault shows: the one running and those just before it. */
    private static final int HISTORY = 3;
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
                defaults:
                  pool_mode: transaction
                  max_size: 3
                  query_wait_timeout: 20s
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
        int workers = onlyCase != null ? 1 : (int) property("pgwarden.fuzz.workers", 2);
        System.out.println("fuzz seed=" + seed + " replay with -Dpgwarden.fuzz.seed=" + seed
                + (onlyCase != null ? " -Dpgwarden.fuzz.case=" + onlyCase : "") + " (" + seconds + " s"
                + (maxCases < Long.MAX_VALUE ? " or " + maxCases + " cases" : "") + ", " + workers + " clients)");

        // Per client: the case it runs now and the few before, since a fault may surface after its case ended.
        AtomicReferenceArray<Run> running = new AtomicReferenceArray<>(HISTORY * workers);
        Failures failures = new Failures();
        AtomicLong next = new AtomicLong(onlyCase != null ? onlyCase : 0);
        AtomicLong done = new AtomicLong();
        AtomicLong controls = new AtomicLong();
        long started = System.nanoTime();
        long end = started + TimeUnit.SECONDS.toNanos(seconds);
        try (ProxyWatch watch = new ProxyWatch(proxy.application(), () -> describe(running))) {
            control(0, failures, () -> "(before the first case)");
            long memoryAtStart = ProxyWatch.retainedBytes();
            long rssAtStart = ProxyWatch.rssBytes();
            long memoryPeak = memoryAtStart;
            CountDownLatch finished = new CountDownLatch(workers);
            for (int w = 0; w < workers; w++) {
                int slot = w;
                Thread worker = new Thread(() -> {
                    try {
                        FuzzClient client = new FuzzClient(proxy.port());
                        while (failures.isEmpty() && System.nanoTime() < end) {
                            long index = next.getAndIncrement();
                            if (onlyCase != null ? index != onlyCase : index >= maxCases) {
                                break;
                            }
                            Run run = new Run(FuzzCase.derive(seed, index), new FuzzClient.Outcome());
                            for (int h = HISTORY - 1; h > 0; h--) {
                                running.set(HISTORY * slot + h, running.get(HISTORY * slot + h - 1));
                            }
                            running.set(HISTORY * slot, run);
                            client.run(run.c(), run.outcome());
                            if (run.outcome().malformedReply != null) {
                                failures.add("the proxy sent a malformed reply (" + run.outcome().malformedReply
                                        + ") to " + run);
                            }
                            if (done.incrementAndGet() % CONTROL_EVERY == 0) {
                                controls.incrementAndGet();
                                control(index, failures, () -> describe(running));
                            }
                        }
                    } catch (ConnectException e) {
                        failures.add("cannot connect to the proxy any more: " + e + "\n  while running: "
                                + describe(running));
                    } catch (RuntimeException | Error e) {
                        failures.add("the fuzzer failed: " + e + "\n  while running: " + describe(running));
                    } finally {
                        finished.countDown();
                    }
                }, "fuzz-client-" + w);
                worker.setDaemon(true);
                worker.start();
            }
            while (!finished.await(CHECK_EVERY_MILLIS, TimeUnit.MILLISECONDS)) {
                check(watch, failures, () -> describe(running));
                long memory = ProxyWatch.retainedBytes();
                memoryPeak = Math.max(memoryPeak, memory);
                if (memory - memoryAtStart > MEMORY_GROWTH_BOUND) {
                    failures.add("retained memory grew by " + mb(memory - memoryAtStart) + " MB (bound "
                            + mb(MEMORY_GROWTH_BOUND) + ") after " + done.get() + " cases");
                }
            }
            control(-1, failures, () -> "(after the last case)");
            // Every fuzz connection is closed: the proxy must let go of all of their sessions.
            try {
                await("all fuzz clients' sessions gone").atMost(Duration.ofSeconds(30))
                        .until(() -> proxy.application().context().sessions().all().isEmpty());
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                failures.add("sessions still open 30 s after every fuzz client closed: "
                        + proxy.application().context().sessions().all());
            }
            check(watch, failures, () -> "(after the last case)");
            long memory = ProxyWatch.retainedBytes();
            memoryPeak = Math.max(memoryPeak, memory);
            double elapsed = (System.nanoTime() - started) / 1e9;
            System.out.printf("fuzz seed=%d: %d cases in %.1f s (%.0f/s), %d control checks, retained memory %d MB"
                            + " at start, %d MB peak, %d MB at end, RSS %d MB to %d MB, losses %s, tolerated: %s; %s%n",
                    seed,
                    done.get(), elapsed, done.get() / elapsed, controls.get() + 2, mb(memoryAtStart), mb(memoryPeak),
                    mb(memory), mb(rssAtStart), mb(ProxyWatch.rssBytes()), watch.losses(), watch.tolerated(),
                    failures.isEmpty() ? "no failures" : "FAILED");
            if (memory - memoryAtStart > MEMORY_GROWTH_BOUND) {
                failures.add("retained memory grew by " + mb(memory - memoryAtStart) + " MB over the run");
            }
        }
        assertThat(failures.all()).as("fuzz seed=" + seed + " (replay with -Dpgwarden.fuzz.seed=" + seed + ")")
                .isEmpty();
        assertThat(done.get()).as("cases run").isPositive();
    }

    /** A transaction and a select 1 through each pooling mode, as an application would: must always work. */
    private static void control(long afterCase, Failures failures, java.util.function.Supplier<String> inFlight) {
        for (String database : List.of("appdb", "sessiondb")) {
            Properties props = new Properties();
            props.setProperty("user", "app");
            props.setProperty("password", TestPostgres.APP_PASSWORD);
            props.setProperty("connectTimeout", "20");
            props.setProperty("socketTimeout", "30");
            try (Connection c = DriverManager.getConnection(proxy.url(database), props)) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
                    rs.next();
                    if (rs.getInt(1) != 1) {
                        failures.add("control client on " + database + " got " + rs.getInt(1));
                    }
                }
                c.commit();
            } catch (SQLException e) {
                failures.add("control client on " + database + " failed after case " + afterCase + ": "
                        + e.getSQLState() + " " + e.getMessage() + "\n  while running: " + inFlight.get());
            }
        }
    }

    private static void check(ProxyWatch watch, Failures failures, java.util.function.Supplier<String> inFlight) {
        watch.problems().forEach(failures::add);
        for (String leak : ProxyWatch.leaks()) {
            failures.add(leak + "\n  while running: " + inFlight.get());
        }
    }

    private static String describe(AtomicReferenceArray<Run> running) {
        List<String> cases = new ArrayList<>();
        for (int i = 0; i < running.length(); i++) {
            Run run = running.get(i);
            if (run != null) {
                cases.add((i % HISTORY == 0 ? "now: " : (i % HISTORY) + " case(s) before: ") + run);
            }
        }
        return cases.isEmpty() ? "(no case)" : String.join("\n  ", cases);
    }

    /** A case and what it has done so far. */
    private record Run(FuzzCase c, FuzzClient.Outcome outcome) {
        @Override
        public String toString() {
            return c + "\n    " + outcome.toString().replace("\n", "\n    ");
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

    /** Failures from all threads, deduplicated, bounded. */
    private static final class Failures {
        private final ConcurrentLinkedQueue<String> items = new ConcurrentLinkedQueue<>();

        void add(String failure) {
            if (items.size() < 20 && !items.contains(failure)) {
                items.add(failure);
            }
        }

        boolean isEmpty() {
            return items.isEmpty();
        }

        List<String> all() {
            return List.copyOf(items);
        }
    }
}
