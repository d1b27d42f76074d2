package io.pgwarden.it;

import static org.awaitility.Awaitility.await;

import io.pgwarden.it.ReplicatedPostgres.Node;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Collectors;

/**
 * The failover tests' application: pgjdbc clients through pgwarden, each in a loop of one transaction (INSERT of a
 * unique id, COMMIT) and a think time. It records every acknowledged commit and every error with when its
 * transaction began, so a test can tell which clients had a transaction open on the old primary when it went.
 */
public final class FailoverWorkload implements AutoCloseable {

    static final String TABLE = "failover_writes";

    /** One acknowledged commit: the row {@code id} is durable wherever the primary was. */
    record Commit(int client, long id, long beganNanos, long ackNanos) {
        long latencyMillis() {
            return TimeUnit.NANOSECONDS.toMillis(ackNanos - beganNanos);
        }
    }

    /** One error a client saw; {@code afterInsert}: its INSERT had been answered, so the error came for COMMIT. */
    record Failure(int client, String sqlState, String message, long beganNanos, long failedNanos,
                   boolean afterInsert) {
        @Override
        public String toString() {
            return "client " + client + " " + sqlState + " " + message + (afterInsert ? " (at COMMIT)" : "");
        }
    }

    private final int clients;
    private final long thinkMinMillis;
    private final long thinkMaxMillis;
    private final AtomicBoolean stop = new AtomicBoolean();
    /** Per client, when its open transaction began (its INSERT was sent), or 0 while it thinks. */
    private final AtomicLongArray openSince;
    private final ConcurrentLinkedQueue<Commit> commits = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final ExecutorService threads;
    private final List<Future<?>> running = new ArrayList<>();

    private FailoverWorkload(int clients, long thinkMinMillis, long thinkMaxMillis) {
        this.clients = clients;
        this.thinkMinMillis = thinkMinMillis;
        this.thinkMaxMillis = thinkMaxMillis;
        this.openSince = new AtomicLongArray(clients);
        this.threads = Executors.newFixedThreadPool(clients);
    }

    /** Creates the table (through pgwarden, so on the primary) and starts the clients. */
    static FailoverWorkload start(TestProxy proxy, int clients, long thinkMinMillis, long thinkMaxMillis)
            throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            // The server's port in every row says which node wrote it.
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE
                    + " (id bigint PRIMARY KEY, client int, port int DEFAULT inet_server_port())");
        }
        FailoverWorkload workload = new FailoverWorkload(clients, thinkMinMillis, thinkMaxMillis);
        // One after the other: fifty SCRAM logins at once on a loaded machine can outlast a connect timeout.
        List<Connection> connections = new ArrayList<>();
        try {
            Properties props = new Properties();
            props.setProperty("connectTimeout", "30");
            for (int i = 0; i < clients; i++) {
                connections.add(proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, props));
            }
        } catch (SQLException e) {
            for (Connection c : connections) {
                c.close();
            }
            workload.threads.shutdown();
            throw e;
        }
        for (int i = 0; i < clients; i++) {
            int client = i;
            Connection connection = connections.get(i);
            workload.running.add(workload.threads.submit(() -> {
                workload.loop(client, connection);
                return null;
            }));
        }
        return workload;
    }

    private void loop(int client, Connection connection) throws SQLException {
        try (Connection c = connection;
             PreparedStatement insert = c.prepareStatement("INSERT INTO " + TABLE + " (id, client) VALUES (?, ?)")) {
            c.setAutoCommit(false);
            long sequence = 0;
            while (!stop.get()) {
                long id = client * 10_000_000L + sequence++;
                long began = System.nanoTime();
                openSince.set(client, began);
                boolean afterInsert = false;
                try {
                    insert.setLong(1, id);
                    insert.setInt(2, client);
                    insert.executeUpdate();
                    afterInsert = true;
                    c.commit();
                    commits.add(new Commit(client, id, began, System.nanoTime()));
                } catch (SQLException e) {
                    failures.add(new Failure(client, e.getSQLState(), e.getMessage(), began, System.nanoTime(),
                            afterInsert));
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // the next transaction shows whether the connection still works
                    }
                } finally {
                    openSince.set(client, 0);
                }
                think(ThreadLocalRandom.current().nextLong(thinkMinMillis, thinkMaxMillis + 1));
            }
        }
    }

    /** The workload's think time between transactions: part of the scenario, not synchronisation. */
    private static void think(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Lets the workload run for {@code run} (the scenario's length, not synchronisation) and then until every
     * client has committed at least once since {@code sinceNanos}.
     */
    void runAndAwaitEveryClientCommittedSince(long sinceNanos, Duration run, Duration atMost) {
        await().pollDelay(run).atMost(atMost).pollInterval(Duration.ofMillis(20)).until(() -> {
            failIfAClientDied();
            return commits.stream().filter(c -> c.ackNanos() > sinceNanos).map(Commit::client)
                    .collect(Collectors.toSet()).size() == clients;
        });
    }

    /** The clients whose transaction is open now, each with when it began. */
    Map<Integer, Long> openTransactions() {
        Map<Integer, Long> open = new HashMap<>();
        for (int i = 0; i < clients; i++) {
            long since = openSince.get(i);
            if (since != 0) {
                open.put(i, since);
            }
        }
        return open;
    }

    /** Stops the clients after their current transaction and closes their connections. */
    @Override
    public void close() throws Exception {
        stop.set(true);
        threads.shutdown();
        try {
            for (Future<?> f : running) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private void failIfAClientDied() throws Exception {
        for (Future<?> f : running) {
            if (f.isDone()) {
                f.get();
                throw new IllegalStateException("a client ended early");
            }
        }
    }

    List<Commit> commits() {
        return List.copyOf(commits);
    }

    List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** The longest a client waited for one transaction to be acknowledged. */
    long longestTransactionMillis() {
        return commits.stream().mapToLong(Commit::latencyMillis).max().orElse(0);
    }

    /** The longest time in which no client got a commit acknowledged, within the run. */
    long longestGapWithoutCommitsMillis() {
        long[] acks = commits.stream().mapToLong(Commit::ackNanos).sorted().toArray();
        long gap = 0;
        for (int i = 1; i < acks.length; i++) {
            gap = Math.max(gap, acks[i] - acks[i - 1]);
        }
        return TimeUnit.NANOSECONDS.toMillis(gap);
    }

    /** Failures grouped by client, for "at most one each". */
    Map<Integer, List<Failure>> failuresByClient() {
        return failures.stream().collect(Collectors.groupingBy(Failure::client));
    }

    /** The acknowledged ids missing from {@code node}'s table, read there directly. */
    Set<Long> acknowledgedMissingOn(ReplicatedPostgres cluster, Node node) throws SQLException {
        Set<Long> present = new HashSet<>();
        try (Connection c = DriverManager.getConnection(cluster.url(node, "appdb"), "app", TestPostgres.APP_PASSWORD);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM " + TABLE)) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        Set<Long> missing = new HashSet<>();
        for (Commit commit : commits) {
            if (!present.contains(commit.id())) {
                missing.add(commit.id());
            }
        }
        return missing;
    }

    /** The rows of {@code node}'s table by the port of the server that wrote them. */
    static Map<Integer, Long> rowsByPort(ReplicatedPostgres cluster, Node node) throws SQLException {
        Map<Integer, Long> rows = new HashMap<>();
        try (Connection c = DriverManager.getConnection(cluster.url(node, "appdb"), "app", TestPostgres.APP_PASSWORD);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT port, count(*) FROM " + TABLE + " GROUP BY port")) {
            while (rs.next()) {
                rows.put(rs.getInt(1), rs.getLong(2));
            }
        }
        return rows;
    }

    /**
     * pgwarden in transaction mode in front of both nodes, A listed first, as a Patroni cluster is listed.
     * query_wait_timeout is set above the crash test's 3 s without a primary: it alone bounds the wait while
     * failover_timeout does not yet hold clients.
     */
    public static TestProxy proxyFor(ReplicatedPostgres cluster) {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0, worker_threads: 2}
                defaults:
                  pool_mode: transaction
                  max_size: 20
                  query_wait_timeout: 20s
                  server: {connect_timeout: 2s}
                databases:
                  appdb:
                    hosts: ['127.0.0.1:%d', '127.0.0.1:%d']
                    target_session_attrs: read-write
                users:
                  app:
                    password: ${APP_PASSWORD}
                """.formatted(cluster.port(cluster.a()), cluster.port(cluster.b()));
        return TestProxy.fromYaml(() -> yaml, cluster.port(cluster.a()));
    }

    /** When each step of a failover happened, and which clients had a transaction open as the primary went. */
    record Timeline(Map<Integer, Long> openAtStop, long stopBegan, long stopEnded, long promoteBegan, long promoted) {
    }

    /** What stops the old primary: a fast stop or a crash. */
    interface Stop {
        void stop(Node node) throws Exception;
    }

    /**
     * Stops A with {@code stop}, waits {@code gap} without a primary (a crash detector's delay; zero for a planned
     * switchover) and promotes B, with the workload running throughout. A stays down.
     */
    Timeline failOver(ReplicatedPostgres cluster, Stop stop, Duration gap) throws Exception {
        Map<Integer, Long> open = openTransactions();
        long stopBegan = System.nanoTime();
        stop.stop(cluster.a());
        long stopEnded = System.nanoTime();
        if (!gap.isZero()) {
            // The failover manager's detection delay: the scenario's time without a primary.
            think(gap.toMillis());
        }
        long promoteBegan = System.nanoTime();
        cluster.promote(cluster.b());
        return new Timeline(open, stopBegan, stopEnded, promoteBegan, System.nanoTime());
    }

    /**
     * The errors that are not explained by a transaction open on the old primary: each must belong to a transaction
     * begun before the old primary was gone (its stop ended), and no client may get two.
     */
    List<String> unexplainedFailures(Timeline timeline) {
        List<String> wrong = new ArrayList<>();
        for (Failure f : failures) {
            if (f.beganNanos() >= timeline.stopEnded()) {
                wrong.add(f + ": its transaction began " + millis(f.beganNanos() - timeline.stopEnded())
                        + " ms after the old primary was down");
            }
        }
        failuresByClient().forEach((client, list) -> {
            if (list.size() > 1) {
                wrong.add("client " + client + " got " + list.size() + " errors: " + list);
            }
        });
        return wrong;
    }

    /** The errors and the slowest commits, with times relative to the start of the stop, for the build log. */
    String details(Timeline timeline) {
        long zero = timeline.stopBegan();
        String errors = failures.stream().sorted((x, y) -> Long.compare(x.beganNanos(), y.beganNanos()))
                .map(f -> String.format("client %d %s%s began %+d ms failed %+d ms", f.client(), f.sqlState(),
                        f.afterInsert() ? " at COMMIT" : "", millis(f.beganNanos() - zero),
                        millis(f.failedNanos() - zero)))
                .collect(Collectors.joining("; "));
        String slowest = commits.stream().sorted((x, y) -> Long.compare(y.latencyMillis(), x.latencyMillis()))
                .limit(3).map(c -> String.format("client %d began %+d ms took %d ms", c.client(),
                        millis(c.beganNanos() - zero), c.latencyMillis()))
                .collect(Collectors.joining("; "));
        String message = failures.stream().findFirst().map(Failure::message).orElse("none");
        return "errors: [" + errors + "]; first error's message: " + message + "; slowest commits: [" + slowest + "]";
    }

    /**
     * The first commit acknowledged after {@code nanos} whose row {@code node} wrote, by the port in the row: a
     * commit of the old primary can be acknowledged a little after its stop returned.
     */
    Commit firstCommitWrittenBy(ReplicatedPostgres cluster, Node node, long nanos) throws SQLException {
        Set<Long> written = new HashSet<>();
        try (Connection c = DriverManager.getConnection(cluster.url(node, "appdb"), "app", TestPostgres.APP_PASSWORD);
             PreparedStatement s = c.prepareStatement("SELECT id FROM " + TABLE + " WHERE port = ?")) {
            s.setInt(1, cluster.port(node));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    written.add(rs.getLong(1));
                }
            }
        }
        return commits.stream().filter(c -> c.ackNanos() > nanos && written.contains(c.id()))
                .min((x, y) -> Long.compare(x.ackNanos(), y.ackNanos())).orElse(null);
    }

    /** One line for the build log: what clients saw. */
    String summary(String scenario, Timeline timeline, Commit first) {
        long openAtStopFailed = failures.stream().filter(f -> timeline.openAtStop().containsKey(f.client())
                && f.beganNanos() <= timeline.openAtStop().get(f.client())).count();
        long beganDuringStop = failures.stream().filter(f -> f.beganNanos() > timeline.stopBegan()
                && f.beganNanos() < timeline.stopEnded()).count();
        long beganLater = failures.stream().filter(f -> f.beganNanos() >= timeline.stopEnded()).count();
        String promotionToFirst = first == null ? "none"
                : millis(first.ackNanos() - timeline.promoted()) + " ms (" + millis(first.ackNanos()
                - timeline.promoteBegan()) + " ms from pg_promote's start)";
        Map<String, Long> states = failures.stream().collect(Collectors.groupingBy(
                f -> String.valueOf(f.sqlState()), Collectors.counting()));
        return String.format("%s: %d clients, %d commits, %d errors %s (%d transactions open as the stop began, "
                        + "%d of them failed; %d errors for transactions begun during the %d ms stop, %d for "
                        + "transactions begun after it), gap %d ms, promotion %d ms, promotion to first commit "
                        + "on B %s, longest transaction %d ms, longest time without any commit %d ms",
                scenario, clients, commits.size(), failures.size(), states, timeline.openAtStop().size(),
                openAtStopFailed, beganDuringStop, millis(timeline.stopEnded() - timeline.stopBegan()), beganLater,
                millis(timeline.promoteBegan() - timeline.stopEnded()),
                millis(timeline.promoted() - timeline.promoteBegan()), promotionToFirst,
                longestTransactionMillis(), longestGapWithoutCommitsMillis());
    }

    static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
