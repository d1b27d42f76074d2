package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, acceptance 2: a rolling restart on one host. Two pgwarden processes (JVMs of their own) with one
 * listen.handover_socket: under a 100-client pgbench -C storm and a steady 20-client JDBC workload in transaction
 * mode, B starts, takes A's listening socket, and A drains by itself. No connection and no transaction fails (two
 * SO_REUSEPORT sockets could not promise it: the kernel resets what waits in the closing one's accept queue), and
 * a cancel for a query running on A that reaches B (the only process accepting once A's drain has begun) still
 * cancels.
 */
class RollingRestartTest {

    private static final int JDBC_CLIENTS = 20;
    private static final int PGBENCH_CLIENTS = 100;
    /** Long enough to cover B's start and A's drain on a loaded 2-core machine. */
    private static final int PGBENCH_SECONDS = 20;

    @TempDir
    Path dir;

    private String config(int port, int peerId, int peerA, int peerB) {
        return """
                listen:
                  host: 127.0.0.1
                  port: %d
                  handover_socket: %s
                  peer_id: %d
                  peers:
                    1: 127.0.0.1:%d
                    2: 127.0.0.1:%d
                  shutdown_timeout: 40s
                defaults:
                  pool_mode: transaction
                  max_size: 20
                  query_wait_timeout: 60s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: %d
                users:
                  app:
                    password: %s
                  trustuser:
                    password: trust-secret
                    auth: cleartext
                """.formatted(port, dir.resolve("handover.sock"), peerId, peerA, peerB, TestPostgres.shared().port(), TestPostgres.APP_PASSWORD);
    }

    private static Connection client(int port) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "app");
        props.setProperty("password", TestPostgres.APP_PASSWORD);
        // Generous: pgjdbc bounds the whole login by it, and 20 SCRAM logins at once on a busy 2-core host are slow.
        props.setProperty("connectTimeout", "30");
        props.setProperty("socketTimeout", "60");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/appdb", props);
    }

    /** What the steady workload saw. */
    private static final class Tally {
        final AtomicLong committed = new AtomicLong();
        /** 57P01 before the first statement of a transaction took effect: the client reconnects and goes on. */
        final AtomicLong closedBetweenTransactions = new AtomicLong();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    }

    /** Runs transactions until told to stop, reconnecting when pgwarden closes it between transactions. */
    private static void steady(int port, int worker, AtomicBoolean running, Tally tally) {
        Connection c = null;
        try {
            while (running.get()) {
                if (c == null) {
                    try {
                        c = client(port);
                        c.setAutoCommit(false);
                    } catch (SQLException e) {
                        tally.failures.add("connect: " + e.getSQLState() + " " + e.getMessage() + " (" + e.getCause() + ")");
                        return;
                    }
                }
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT " + worker);
                } catch (SQLException e) {
                    if ("57P01".equals(e.getSQLState())) {
                        tally.closedBetweenTransactions.incrementAndGet();
                        closeQuietly(c);
                        c = null;
                        continue;
                    }
                    tally.failures.add("first statement: " + e.getSQLState() + " " + e.getMessage());
                    return;
                }
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_class")) {
                    rs.next();
                    c.commit();
                    tally.committed.incrementAndGet();
                } catch (SQLException e) {
                    tally.failures.add("inside a transaction: " + e.getSQLState() + " " + e.getMessage());
                    return;
                }
            }
        } finally {
            if (c != null) {
                closeQuietly(c);
            }
        }
    }

    @Test
    void aRollingRestartOnOnePortDropsNothingAndCancelsAcrossProcesses() throws Exception {
        int port = FreePorts.below32768();
        int peerA = FreePorts.below32768();
        int peerB = FreePorts.below32768();
        Path script = dir.resolve("select.sql");
        Files.writeString(script, "SELECT 1;\n");
        ExecutorService pool = Executors.newCachedThreadPool();
        try (PgwardenProcess a = PgwardenProcess.start(dir, "a", config(port, 1, peerA, peerB))) {
            assertThat(a.awaitListening()).isEqualTo(port);
            // Connected while A alone listens: the query to cancel runs on A.
            Connection sleeper = client(port);
            Tally tally = new Tally();
            AtomicBoolean running = new AtomicBoolean(true);
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < JDBC_CLIENTS; i++) {
                int worker = i;
                workers.add(pool.submit(() -> steady(port, worker, running, tally)));
            }
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> tally.committed.get() >= 200);

            ProcessBuilder benchRun = new ProcessBuilder(Path.of(pgBinDir(), "pgbench").toString(), "-n", "-C",
                    "-c", String.valueOf(PGBENCH_CLIENTS), "-j", "4", "-T", String.valueOf(PGBENCH_SECONDS),
                    "-f", script.toString(), "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", "trustuser", "appdb")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("pgbench.log").toFile());
            benchRun.environment().put("PGPASSWORD", "trust-secret");
            benchRun.environment().put("PGSSLMODE", "disable");
            Process pgbench = benchRun.start();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> a.output().contains("user=\"trustuser\""));

            // Running on A before B starts: A's drain lets it finish, so the cancel is what ends it.
            CompletableFuture<SQLException> sleep = CompletableFuture.supplyAsync(() -> {
                try (Statement s = sleeper.createStatement()) {
                    s.execute("SELECT pg_sleep(30)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            }, pool);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sleepingBackends() == 1);

            try (PgwardenProcess b = PgwardenProcess.start(dir, "b", config(port, 2, peerA, peerB))) {
                assertThat(b.awaitListening()).isEqualTo(port);
                afterFailure = () -> explain(a, b);
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> b.output().contains("user=\"trustuser\""));

                // B confirmed the handover once it started: A drains without a signal. From drain_start on A no
                // longer accepts, so the cancel's connection can only reach B.
                a.awaitLog("event=drain_start");
                boolean stormDuringDrain = pgbench.isAlive();
                long cancelled = System.nanoTime();
                // pgjdbc's cancel goes to the connection's host and port, with the key A handed out.
                ((org.postgresql.PGConnection) sleeper).cancelQuery();
                SQLException cancelError;
                try {
                    cancelError = sleep.get(20, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    for (PgwardenProcess p : List.of(a, b)) {
                        p.output().lines().filter(l -> l.contains("cancel") || l.contains("peer")
                                || l.contains("drain")).forEach(l -> System.out.println("  log: " + l));
                    }
                    throw new AssertionError("the cancel through B did not end the query on A within 20 s", e);
                }
                long cancelMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelled);
                closeQuietly(sleeper);

                assertThat(pgbench.waitFor(PGBENCH_SECONDS + 60, TimeUnit.SECONDS)).as("pgbench ended").isTrue();
                running.set(false);
                for (Future<?> w : workers) {
                    w.get(60, TimeUnit.SECONDS);
                }
                assertThat(a.process().waitFor(60, TimeUnit.SECONDS)).as("A exited after its drain").isTrue();

                String bench = Files.readString(dir.resolve("pgbench.log"));
                long processed = number(bench, "number of transactions actually processed: (\\d+)");
                long failed = number(bench, "number of failed transactions: (\\d+)");
                long connectionErrors = bench.lines().filter(l -> l.contains("error") || l.contains("fatal")
                        || l.contains("aborted")).count();
                String aOut = a.output();
                System.out.printf("rolling restart: pgbench exit %d, %d transactions, %d failed, %d error lines;"
                                + " JDBC %d committed, %d closed between transactions (reconnected), %d failures;"
                                + " cancel via B: %s after %d ms; A: %s%n",
                        pgbench.exitValue(), processed, failed, connectionErrors, tally.committed.get(),
                        tally.closedBetweenTransactions.get(), tally.failures.size(),
                        cancelError == null ? "no error" : cancelError.getSQLState(), cancelMillis,
                        find(aOut, "event=drain_done.*"));
                bench.lines().filter(l -> l.contains("error") || l.contains("fatal") || l.contains("aborted")
                        || l.startsWith("number of") || l.startsWith("tps") || l.contains("latency"))
                        .limit(20).forEach(l -> System.out.println("  pgbench: " + l));

                assertThat(stormDuringDrain).as("pgbench was still running when A's drain began").isTrue();
                assertThat((Throwable) cancelError).as("the query on A, cancelled through B").isNotNull();
                assertThat(cancelError.getSQLState()).isEqualTo("57014");
                // Well before pg_sleep(30) would have ended: the cancel, not the query, ended it.
                assertThat(cancelMillis).as("cancel delivered within, ms").isLessThan(20_000);
                assertThat(tally.failures).as("JDBC workload failures").isEmpty();
                assertThat(processed).as("pgbench transactions").isPositive();
                assertThat(failed).as("pgbench failed transactions").isZero();
                assertThat(connectionErrors).as("pgbench connection errors").isZero();
                assertThat(pgbench.exitValue()).as("pgbench exit code").isZero();
                assertThat(b.output()).contains("event=cancel_forward").contains("event=handover_taken");
                assertThat(aOut).contains("event=handover_given");
            }
        } catch (Throwable e) {
            afterFailure.run();
            throw e;
        } finally {
            pool.shutdownNow();
        }
    }

    /** What the processes and pgbench said, printed when the test fails: a rolling restart has many moving parts. */
    private Runnable afterFailure = () -> { };

    private void explain(PgwardenProcess a, PgwardenProcess b) {
        try {
            for (PgwardenProcess p : List.of(a, b)) {
                p.output().lines().filter(l -> l.contains("handover") || l.contains("drain") || l.contains("WARN")
                        || l.contains("ERROR")).limit(40).forEach(l -> System.out.println("  log: " + l));
            }
            Files.readString(dir.resolve("pgbench.log")).lines().limit(40)
                    .forEach(l -> System.out.println("  pgbench: " + l));
        } catch (IOException e) {
            System.out.println("  no pgbench log: " + e);
        }
    }

    private static String pgBinDir() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            p.waitFor(10, TimeUnit.SECONDS);
            return line.trim();
        }
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group() : "(none)";
    }

    private static int sleepingBackends() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closed by pgwarden's drain
        }
    }
}
