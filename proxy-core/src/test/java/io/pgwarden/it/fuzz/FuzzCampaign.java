package io.pgwarden.it.fuzz;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.net.ConnectException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * Runs cases (seed, 0), (seed, 1), ... from several fuzz clients at once until time or cases run out or something
 * fails, with a control client every {@link #CONTROL_EVERY} cases. Keeps which cases each client ran last, so
 * that a fault noticed a little later (a backend's close, a leak) can still be traced to the bytes that caused it.
 */
final class FuzzCampaign {

    static final int CONTROL_EVERY = 50;
    /** Cases per client named when a fault shows: the one running and those just before it. */
    private static final int HISTORY = 3;

    private final TestProxy proxy;
    private final long seed;
    private final Long onlyCase;
    private final long maxCases;
    private final int clients;
    private final AtomicReferenceArray<Run> recent;
    private final Failures failures = new Failures();
    private final AtomicLong next;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong controls = new AtomicLong();
    private CountDownLatch finished;

    /** @param onlyCase the one case to run, or null for all of them from 0 */
    FuzzCampaign(TestProxy proxy, long seed, Long onlyCase, long maxCases, int clients) {
        this.proxy = proxy;
        this.seed = seed;
        this.onlyCase = onlyCase;
        this.maxCases = maxCases;
        this.clients = onlyCase != null ? 1 : clients;
        this.recent = new AtomicReferenceArray<>(HISTORY * this.clients);
        this.next = new AtomicLong(onlyCase != null ? onlyCase : 0);
    }

    void start(long endNanos) {
        finished = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            int slot = c;
            Thread client = new Thread(() -> {
                try {
                    play(slot, endNanos);
                } finally {
                    finished.countDown();
                }
            }, "fuzz-client-" + c);
            client.setDaemon(true);
            client.start();
        }
    }

    /** True once every client has stopped, false when {@code millis} passed first. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return finished.await(millis, TimeUnit.MILLISECONDS);
    }

    private void play(int slot, long endNanos) {
        FuzzClient client = new FuzzClient(proxy.port());
        try {
            while (failures.isEmpty() && System.nanoTime() < endNanos) {
                long index = next.getAndIncrement();
                if (onlyCase != null ? index != onlyCase : index >= maxCases) {
                    return;
                }
                Run run = new Run(FuzzCase.derive(seed, index), new FuzzClient.Outcome());
                for (int h = HISTORY - 1; h > 0; h--) {
                    recent.set(HISTORY * slot + h, recent.get(HISTORY * slot + h - 1));
                }
                recent.set(HISTORY * slot, run);
                client.run(run.c(), run.outcome());
                if (run.outcome().malformedReply != null) {
                    failures.add("the proxy sent a malformed reply (" + run.outcome().malformedReply + ") to " + run);
                }
                if (done.incrementAndGet() % CONTROL_EVERY == 0) {
                    controls.incrementAndGet();
                    control("after case " + index);
                }
            }
        } catch (ConnectException e) {
            failures.add("cannot connect to the proxy any more: " + e + "\n  while running: " + describeRecent());
        } catch (RuntimeException | Error e) {
            failures.add("the fuzzer failed: " + e + "\n  while running: " + describeRecent());
        }
    }

    /** A transaction and a select 1 through each pooling mode, as an application would: must always work. */
    void control(String when) {
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
                        failures.add("control client on " + database + " got " + rs.getInt(1) + " " + when);
                    }
                }
                c.commit();
            } catch (SQLException e) {
                failures.add("control client on " + database + " failed " + when + ": " + e.getSQLState() + " "
                        + e.getMessage() + "\n  while running: " + describeRecent());
            }
        }
    }

    void fail(String failure) {
        failures.add(failure);
    }

    List<String> failures() {
        return failures.all();
    }

    long casesDone() {
        return done.get();
    }

    /** Including the two around the run (before the first case, after the last). */
    long controlChecks() {
        return controls.get() + 2;
    }

    /** The cases each client runs now and ran just before, with the bytes they wrote. */
    String describeRecent() {
        List<String> cases = new ArrayList<>();
        for (int i = 0; i < recent.length(); i++) {
            Run run = recent.get(i);
            if (run != null) {
                cases.add((i % HISTORY == 0 ? "now: " : (i % HISTORY) + " case(s) before: ") + run);
            }
        }
        return cases.isEmpty() ? "(no case)" : String.join("\n  ", cases);
    }

    Supplier<String> recentCases() {
        return this::describeRecent;
    }

    /** A case and what it has done so far. */
    private record Run(FuzzCase c, FuzzClient.Outcome outcome) {
        @Override
        public String toString() {
            return c + "\n    " + outcome.toString().replace("\n", "\n    ");
        }
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
