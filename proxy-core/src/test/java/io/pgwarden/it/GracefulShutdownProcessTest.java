package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
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
 * Issue 18, acceptance 1: SIGTERM to a pgwarden process of its own (as in production) while 50 clients run write
 * transactions. Every commit a client saw acknowledged is in the table, the clients get 57P01 between transactions
 * and no other error, the process exits within listen.shutdown_timeout + 1 s, and /ready says 503 before the port
 * refuses connections.
 */
class GracefulShutdownProcessTest {

    private static final int CLIENTS = 50;
    private static final long SHUTDOWN_TIMEOUT_MILLIS = 3_000;
    private static final String TABLE = "sigterm_drain_rows";
    private static final Pattern LISTEN = Pattern.compile("event=listen addr=\\S*:(\\d+) ");
    private static final Pattern HTTP = Pattern.compile("event=http_listen addr=\\S*:(\\d+)");

    @TempDir
    Path dir;

    /** What one poll of the listener and of /ready saw, in that order. */
    private record Poll(boolean refused, int ready) {
    }

    private static Connection appdb() throws SQLException {
        return DriverManager.getConnection(TestPostgres.shared().directUrl("appdb"), "postgres", "");
    }

    private Process startPgwarden(Path log) throws IOException {
        return startPgwarden(log, SHUTDOWN_TIMEOUT_MILLIS);
    }

    private Process startPgwarden(Path log, long shutdownTimeoutMillis) throws IOException {
        Path config = dir.resolve(log.getFileName() + ".yaml");
        Files.writeString(config, """
                listen:
                  host: 127.0.0.1
                  port: 0
                  shutdown_timeout: %dms
                defaults:
                  max_size: 10
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: %d
                users:
                  app:
                    password: %s
                admin:
                  http:
                    port: 0
                """.formatted(shutdownTimeoutMillis, TestPostgres.shared().port(), TestPostgres.APP_PASSWORD));
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.pgwarden.Main", "-c", config.toString());
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int port(Path log, Pattern pattern) {
        return Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
            Matcher m = pattern.matcher(Files.readString(log));
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        }, p -> p > 0);
    }

    private static Connection client(int port) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "app");
        props.setProperty("password", TestPostgres.APP_PASSWORD);
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/appdb", props);
    }

    /** Inserts and commits until the connection ends; returns the first error, acknowledged ids go to {@code acked}. */
    private static SQLException writeUntilStopped(Connection c, long base, Set<Long> acked, AtomicLong begun,
                                                  ConcurrentLinkedQueue<String> misplaced) {
        try {
            c.setAutoCommit(false);
            for (long n = 0; ; n++) {
                long id = base + n;
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO " + TABLE + " VALUES (" + id + ")");
                } catch (SQLException e) {
                    // The first statement of a transaction: the client was between transactions.
                    return e;
                }
                begun.incrementAndGet();
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO " + TABLE + " VALUES (" + (id + 500_000) + ")");
                    c.commit();
                } catch (SQLException e) {
                    misplaced.add("inside a transaction: " + e.getSQLState() + " " + e.getMessage());
                    return e;
                }
                synchronized (acked) {
                    acked.add(id);
                    acked.add(id + 500_000);
                }
            }
        } catch (SQLException e) {
            return e;
        }
    }

    @Test
    void sigtermDrainsFiftyWritingClientsWithoutLosingAnAcknowledgedCommit() throws Exception {
        try (Connection c = appdb(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
            s.execute("CREATE TABLE " + TABLE + " (id bigint PRIMARY KEY)");
            s.execute("GRANT ALL ON " + TABLE + " TO app");
        }
        Path log = dir.resolve("pgwarden.log");
        Process pgwarden = startPgwarden(log);
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 2);
        try {
            int port = port(log, LISTEN);
            int httpPort = port(log, HTTP);
            Set<Long> acked = new HashSet<>();
            AtomicLong begun = new AtomicLong();
            ConcurrentLinkedQueue<String> misplaced = new ConcurrentLinkedQueue<>();
            List<Connection> connections = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                connections.add(client(port));
            }
            List<Future<SQLException>> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Connection c = connections.get(i);
                long base = (i + 1) * 1_000_000L;
                clients.add(pool.submit(() -> writeUntilStopped(c, base, acked, begun, misplaced)));
            }
            // One more holds a transaction open and quiet: the drain waits for it until the deadline.
            Connection straggler = client(port);
            straggler.setAutoCommit(false);
            try (Statement s = straggler.createStatement()) {
                s.executeUpdate("INSERT INTO " + TABLE + " VALUES (1)");
            }

            AtomicBoolean polling = new AtomicBoolean(true);
            CountDownLatch pollerStarted = new CountDownLatch(1);
            HttpClient http = HttpClient.newHttpClient();
            Future<List<Poll>> polls = pool.submit(() -> {
                List<Poll> seen = new ArrayList<>();
                pollerStarted.countDown();
                while (polling.get() && seen.size() < 100_000) {
                    boolean refused = refused(port);
                    int ready;
                    try {
                        ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                                + "/ready")).timeout(Duration.ofSeconds(2)).build(),
                                HttpResponse.BodyHandlers.discarding()).statusCode();
                    } catch (IOException e) {
                        ready = -1;
                    }
                    seen.add(new Poll(refused, ready));
                    if (refused && ready == -1) {
                        break;
                    }
                }
                return seen;
            });
            pollerStarted.await();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> begun.get() >= 500);

            long sent = System.nanoTime();
            pgwarden.destroy(); // SIGTERM
            assertThat(pgwarden.waitFor(SHUTDOWN_TIMEOUT_MILLIS + 10_000, TimeUnit.MILLISECONDS)).isTrue();
            long exitMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            polling.set(false);

            List<String> errors = new ArrayList<>();
            for (Future<SQLException> f : clients) {
                SQLException e = f.get(30, TimeUnit.SECONDS);
                errors.add(e == null ? "none" : e.getSQLState() + " " + e.getMessage());
            }
            connections.forEach(GracefulShutdownProcessTest::closeQuietly);
            closeQuietly(straggler);
            String output = Files.readString(log);
            Matcher done = Pattern.compile("event=drain_done.*").matcher(output);
            System.out.printf("SIGTERM drain: exit %d ms after the signal, %d acknowledged commits, %s%n", exitMillis,
                    acked.size(), done.find() ? done.group() : "no drain_done line");

            assertThat(misplaced).as("errors inside a transaction").isEmpty();
            assertThat(errors).as("what each client's last statement got").allSatisfy(e ->
                    assertThat(e).startsWith("57P01").contains("pgwarden is shutting down"));
            Set<Long> stored = new HashSet<>();
            try (Connection c = appdb(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id FROM " + TABLE)) {
                while (rs.next()) {
                    stored.add(rs.getLong(1));
                }
            }
            synchronized (acked) {
                assertThat(stored).as("acknowledged commits in the table").containsAll(acked);
            }
            assertThat(stored).as("the straggler's transaction, cut at the deadline").doesNotContain(1L);
            assertThat(exitMillis).as("exit after SIGTERM, ms").isLessThanOrEqualTo(SHUTDOWN_TIMEOUT_MILLIS + 1_000);
            assertThat(pgwarden.exitValue()).isZero();
            assertThat(output).contains("event=drain_start timeout_ms=" + SHUTDOWN_TIMEOUT_MILLIS)
                    .containsPattern("event=drain_done closed_idle=\\d+ finished=\\d+ cut=[1-9]");

            List<Poll> seen = polls.get(30, TimeUnit.SECONDS);
            int firstRefused = -1;
            for (int i = 0; i < seen.size(); i++) {
                if (seen.get(i).refused()) {
                    firstRefused = i;
                    break;
                }
            }
            assertThat(firstRefused).as("the port ended up refusing connections").isPositive();
            // Each poll tries the port first, then /ready: a 200 after a refusal would mean the socket closed first.
            assertThat(seen.subList(firstRefused, seen.size())).as("/ready from the first refusal on")
                    .allSatisfy(p -> assertThat(p.ready()).isNotEqualTo(200));
            assertThat(seen).as("a poll saw /ready 503").anySatisfy(p -> assertThat(p.ready()).isEqualTo(503));
            assertThat(seen.subList(0, firstRefused)).as("the port accepted before").isNotEmpty();
        } finally {
            pool.shutdownNow();
            pgwarden.destroyForcibly();
            pgwarden.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSecondSigtermOrASigintStopsAtOnce() throws Exception {
        for (String second : List.of("TERM", "INT")) {
            Path log = dir.resolve("pgwarden-" + second + ".log");
            Process pgwarden = startPgwarden(log, 120_000);
            try {
                int port = port(log, LISTEN);
                Connection held = client(port);
                held.setAutoCommit(false);
                try (Statement s = held.createStatement()) {
                    s.execute("SELECT 1");
                }
                pgwarden.destroy(); // SIGTERM: the drain would wait 120 s for the open transaction
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log)
                        .contains("event=drain_start"));
                long sent = System.nanoTime();
                if (second.equals("TERM")) {
                    pgwarden.destroy();
                } else {
                    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pgwarden.pid())).start();
                    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
                }
                assertThat(pgwarden.waitFor(20, TimeUnit.SECONDS)).as("exited after SIG%s", second).isTrue();
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent)).as("ms after SIG%s", second)
                        .isLessThan(10_000);
                closeQuietly(held);
            } finally {
                pgwarden.destroyForcibly();
                pgwarden.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }


    private static boolean refused(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // Closed by pgwarden's stop: the driver's Terminate may find no socket.
        }
    }
}
