package io.pgwarden.bench;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * {@code --faults}: the same small write workload runs twice at once, directly against PostgreSQL and through
 * pgwarden, while idle sessions are killed every few seconds and PostgreSQL is restarted twice. The two error
 * counts side by side are what pgwarden is for.
 */
final class FaultDemo {

    static final int WORKERS = 8;
    private static final long THINK_MILLIS = 100;
    /** An application backs off a little after an error rather than hammering a server that is down. */
    private static final long BACKOFF_MILLIS = 250;
    private static final long KILL_EVERY_MILLIS = 3_000;

    record Outcome(long commits, long errors, Map<String, Long> errorsByState) {
    }

    record Result(Outcome direct, Outcome proxied, int kills, int restarts) {
    }

    private FaultDemo() {
    }

    static Result run(Duration duration, PrintStream out) throws Exception {
        try (DemoPostgres pg = DemoPostgres.start()) {
            DemoProxy demo = DemoProxy.start(0, 0, "transaction", pg.port());
            try {
                return run(pg, demo, duration, out);
            } finally {
                demo.proxy.close();
            }
        }
    }

    private static Result run(DemoPostgres pg, DemoProxy demo, Duration duration, PrintStream out) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.url(DemoPostgres.DATABASE), DemoPostgres.USER,
                DemoPostgres.PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE demo_writes (id bigserial PRIMARY KEY, via text, worker int, at timestamptz "
                    + "DEFAULT now())");
        }
        out.printf("""

                pgwarden --faults: %d workers write (INSERT + COMMIT, %d ms think time) for %d s, directly against
                PostgreSQL (port %d) and through pgwarden (port %d, transaction mode) at the same time. Meanwhile
                idle sessions are killed every %d s (pg_terminate_backend) and PostgreSQL is restarted twice.
                (pgwarden logs errors only here; PGWARDEN_LOG_LEVEL=INFO shows every backend it loses.)
                %n""", WORKERS, THINK_MILLIS, duration.toSeconds(), pg.port(), demo.port(), KILL_EVERY_MILLIS / 1000);
        long deadline = System.nanoTime() + duration.toNanos();
        Workload direct = new Workload("direct", pg.port(), deadline);
        Workload proxied = new Workload("pgwarden", demo.port(), deadline);
        List<Thread> threads = new ArrayList<>();
        threads.addAll(direct.start());
        threads.addAll(proxied.start());
        int kills = 0;
        int restarts = 0;
        long started = System.nanoTime();
        // Restarts a third and two thirds of the way through, so each is followed by a stretch of plain kills.
        long[] restartAt = {started + duration.toNanos() / 3, started + duration.toNanos() * 2 / 3};
        while (System.nanoTime() < deadline) {
            long next = Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KILL_EVERY_MILLIS));
            TimeUnit.NANOSECONDS.sleep(Math.max(0, next - System.nanoTime()));
            if (System.nanoTime() >= deadline) {
                break;
            }
            if (restarts < restartAt.length && System.nanoTime() >= restartAt[restarts]) {
                long t0 = System.nanoTime();
                pg.down();
                pg.up();
                restarts++;
                out.printf("  %3d s  restarted PostgreSQL (down for %d ms)%n", elapsed(started),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            } else {
                int killed = killIdle(pg);
                kills += killed;
                out.printf("  %3d s  killed %d idle sessions    direct: %d errors, through pgwarden: %d errors%n",
                        elapsed(started), killed, direct.errors.get(), proxied.errors.get());
            }
        }
        for (Thread t : threads) {
            // Bounded by the JDBC timeouts of the worker's last transaction.
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        Result result = new Result(direct.outcome(), proxied.outcome(), kills, restarts);
        print(result, demo, out);
        return result;
    }

    private static long elapsed(long started) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
    }

    /** What a cron job or an impatient DBA does: end every session of the application that sits idle. */
    private static int killIdle(DemoPostgres pg) {
        try (Connection c = pg.superuser(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                     + " WHERE usename = '" + DemoPostgres.USER + "' AND state = 'idle'")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            return 0;
        }
    }

    private static void print(Result r, DemoProxy demo, PrintStream out) {
        out.printf("""

                Result after %d kills of idle sessions and %d PostgreSQL restarts:
                  direct: %d errors (%d commits)%s
                  through pgwarden: %d errors (%d commits)%s
                %s
                """, r.kills(), r.restarts(), r.direct().errors(), r.direct().commits(),
                states(r.direct()), r.proxied().errors(), r.proxied().commits(), states(r.proxied()),
                metrics(demo));
    }

    private static String states(Outcome o) {
        return o.errorsByState().isEmpty() ? "" : "  by SQLSTATE: " + o.errorsByState().entrySet().stream()
                .map(e -> e.getKey() + " x" + e.getValue()).collect(Collectors.joining(", "));
    }

    /** pgwarden's own account of what it absorbed, from /metrics. */
    private static String metrics(DemoProxy demo) {
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            String body = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + demo.httpPort()
                    + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            String lines = body.lines()
                    .filter(l -> l.startsWith("pgwarden_replayed_requests_total")
                            || l.startsWith("pgwarden_backend_losses_total")
                            || l.startsWith("pgwarden_client_errors_from_server_loss_total"))
                    .map(l -> "    " + l).collect(Collectors.joining("\n"));
            return "pgwarden's /metrics on what it absorbed:\n" + lines;
        } catch (Exception e) {
            return "(could not read /metrics: " + e + ")";
        }
    }

    /** Eight application threads, each with a connection it keeps (as a pool would) and replaces once broken. */
    private static final class Workload {
        private final String name;
        private final int port;
        private final long deadline;
        final AtomicLong commits = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        private final Map<String, AtomicLong> byState = new ConcurrentHashMap<>();

        Workload(String name, int port, long deadline) {
            this.name = name;
            this.port = port;
            this.deadline = deadline;
        }

        List<Thread> start() {
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < WORKERS; i++) {
                int worker = i;
                Thread t = new Thread(() -> work(worker), "faults-" + name + "-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
            return threads;
        }

        Outcome outcome() {
            Map<String, Long> states = new TreeMap<>();
            byState.forEach((k, v) -> states.put(k, v.get()));
            return new Outcome(commits.get(), errors.get(), states);
        }

        private void work(int worker) {
            Properties props = new Properties();
            props.setProperty("user", DemoPostgres.USER);
            props.setProperty("password", DemoPostgres.PASSWORD);
            props.setProperty("connectTimeout", "5");
            props.setProperty("socketTimeout", "20");
            props.setProperty("ApplicationName", "faults-" + name);
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + DemoPostgres.DATABASE;
            Connection c = null;
            try {
                while (System.nanoTime() < deadline) {
                    long pause = THINK_MILLIS;
                    try {
                        if (c == null) {
                            c = DriverManager.getConnection(url, props);
                            c.setAutoCommit(false);
                        }
                        try (PreparedStatement ps = c.prepareStatement(
                                "INSERT INTO demo_writes (via, worker) VALUES (?, ?)")) {
                            ps.setString(1, name);
                            ps.setInt(2, worker);
                            ps.executeUpdate();
                        }
                        c.commit();
                        commits.incrementAndGet();
                    } catch (SQLException e) {
                        errors.incrementAndGet();
                        byState.computeIfAbsent(String.valueOf(e.getSQLState()), k -> new AtomicLong())
                                .incrementAndGet();
                        c = recover(c);
                        pause = BACKOFF_MILLIS;
                    }
                    Thread.sleep(pause);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                close(c);
            }
        }

        /** Keeps a connection that still works (pgwarden's do), replaces one that does not (a direct one's). */
        private static Connection recover(Connection c) {
            if (c == null) {
                return null;
            }
            try {
                c.rollback();
                if (c.isValid(2)) {
                    return c;
                }
            } catch (SQLException ignored) {
                // broken: replaced below
            }
            close(c);
            return null;
        }

        private static void close(Connection c) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // already gone
                }
            }
        }
    }
}
