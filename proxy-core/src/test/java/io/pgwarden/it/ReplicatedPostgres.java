package io.pgwarden.it;

import static org.awaitility.Awaitility.await;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary ({@link #a()}) and a streaming hot standby ({@link #b()}) of PostgreSQL 17 on loopback, for failover
 * tests. Both run from the zonky binaries the other tests use, because zonky can run the server as root and
 * Debian's PostgreSQL 15 tools cannot copy a 17 cluster. The standby is a cold copy of the primary's data
 * directory (a valid base backup) streaming through a physical replication slot. Like {@link TestPostgres}
 * there are the role {@code app} (SCRAM) and the database {@code appdb}; {@code postgres} logs in with trust.
 */
public final class ReplicatedPostgres implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedPostgres.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

    /** One server: its data directory and port stay the same across stops, so clients see one host. */
    public static final class Node {
        private final String name;
        private final PostgresDataDirectory files;
        private final int port;
        private EmbeddedPostgres running;

        private Node(String name, Path dataDirectory, int port) {
            this.name = name;
            this.files = new PostgresDataDirectory(dataDirectory);
            this.port = port;
        }

        public String name() {
            return name;
        }

        /** The replication slot that this node, as a standby, streams through on its primary. */
        private String slot() {
            return "node_" + name.toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return name + "@" + port;
        }
    }

    private final Path root;
    private final Path hba;
    private final Node a;
    private final Node b;

    private ReplicatedPostgres(Path root) throws IOException {
        this.root = root;
        this.hba = root.resolve("pg_hba.conf");
        this.a = new Node("A", root.resolve("a"), freePort());
        this.b = new Node("B", root.resolve("b"), freePort());
    }

    /** Starts A as the primary and B streaming from it; both accept connections on return. */
    public static ReplicatedPostgres start() throws IOException, SQLException {
        ReplicatedPostgres cluster = new ReplicatedPostgres(Files.createTempDirectory("pgwarden-replicated"));
        try {
            cluster.build();
            return cluster;
        } catch (IOException | SQLException | RuntimeException e) {
            try {
                cluster.close();
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private void build() throws IOException, SQLException {
        long started = System.nanoTime();
        Files.writeString(hba, String.join("\n",
                "local all all trust",
                "host all postgres 127.0.0.1/32 trust",
                "host all all 127.0.0.1/32 scram-sha-256",
                "host replication postgres 127.0.0.1/32 trust", ""));
        start(a);
        try (Connection c = admin(a); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE app LOGIN PASSWORD '" + TestPostgres.APP_PASSWORD + "'");
            s.execute("CREATE DATABASE appdb OWNER app");
            s.execute("SELECT pg_create_physical_replication_slot('" + b.slot() + "', true)");
        }
        stopFast(a);
        long copying = System.nanoTime();
        a.files.copyTo(b.files.path());
        LOG.debug("copied {} to {} in {} ms", a.files.path(), b.files.path(), millisSince(copying));
        writeStandbyConfig(b, a);
        start(a);
        start(b);
        LOG.debug("primary {} and standby {} up in {} ms", a, b, millisSince(started));
    }

    public Node a() {
        return a;
    }

    public Node b() {
        return b;
    }

    /** The node that is not {@code node}: in this cluster of two, the one it streams from or to. */
    public Node other(Node node) {
        return node == a ? b : a;
    }

    public int port(Node node) {
        return node.port;
    }

    public String url(Node node, String database) {
        return "jdbc:postgresql://127.0.0.1:" + node.port + "/" + database;
    }

    public Connection superuser(Node node) throws SQLException {
        return DriverManager.getConnection(url(node, "postgres"), "postgres", "");
    }

    /** A superuser session that can write even after {@link #setReadOnly}, for the harness's own changes. */
    private Connection admin(Node node) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty("options", "-c default_transaction_read_only=off");
        props.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(url(node, "postgres"), props);
    }

    /** Starts the node on its data directory, as whatever its directory says (primary, or standby.signal). */
    public synchronized void start(Node node) throws IOException {
        if (node.running != null) {
            throw new IllegalStateException(node + " is already running");
        }
        long started = System.nanoTime();
        node.running = EmbeddedPostgres.builder()
                .setDataDirectory(node.files.path())
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPort(node.port)
                .setPGStartupWait(Duration.ofSeconds(30))
                .setServerConfig("hba_file", hba.toString())
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "200")
                .setServerConfig("wal_level", "replica")
                .setServerConfig("max_wal_senders", "10")
                .setServerConfig("max_replication_slots", "10")
                .setServerConfig("hot_standby", "on")
                .setServerConfig("wal_log_hints", "on")
                // zonky turns it off; failover tests check that acknowledged commits survive, so keep it real.
                .setServerConfig("synchronous_commit", "on")
                // A standby whose primary went away retries every 5 s by default: too slow to follow a switch.
                .setServerConfig("wal_retrieve_retry_interval", "200ms")
                .start();
        LOG.debug("{} started in {} ms", node, millisSince(started));
    }

    /** {@code pg_ctl stop -m fast}: sessions are terminated, a primary first sends all its WAL to its standbys. */
    public synchronized void stopFast(Node node) throws IOException {
        if (node.running == null) {
            return;
        }
        long started = System.nanoTime();
        try {
            node.running.close();
        } finally {
            node.running = null;
        }
        LOG.debug("{} stopped (fast) in {} ms", node, millisSince(started));
    }

    /** A crash as PostgreSQL sees one: SIGQUIT to the postmaster, nothing written or sent on the way out. */
    public synchronized void stopImmediate(Node node) throws IOException {
        if (node.running == null) {
            return;
        }
        long started = System.nanoTime();
        long pid = node.files.postmasterPid()
                .orElseThrow(() -> new IllegalStateException(node + " has no postmaster.pid"));
        signalQuit(pid);
        await().atMost(STOP_TIMEOUT).pollInterval(Duration.ofMillis(20))
                .until(() -> exited(pid) && !accepts(node.port));
        LOG.debug("{} postmaster {} gone and port closed {} ms after SIGQUIT", node, pid, millisSince(started));
        // zonky's close releases its lock on the data directory; its pg_ctl stop fails (and logs) as nothing runs.
        try {
            node.running.close();
        } finally {
            node.running = null;
        }
        LOG.debug("{} stopped (immediate) in {} ms", node, millisSince(started));
    }

    /** {@code pg_ctl promote}, waiting for the promotion to finish. */
    public void promote(Node node) throws SQLException {
        long started = System.nanoTime();
        try (Connection c = admin(node); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_promote(true, 30)")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new IllegalStateException(node + " did not finish promoting within 30 s");
            }
        }
        LOG.debug("{} promoted in {} ms", node, millisSince(started));
    }

    /**
     * Starts a stopped node as a standby of {@code primary}: the demoted primary coming back as Patroni brings it.
     * After a fast stop its WAL ends where the new primary's timeline forked, so it follows without pg_rewind;
     * after an immediate stop it may hold WAL the new primary never got, and would need pg_rewind.
     */
    public void startAsStandbyOf(Node node, Node primary) throws IOException, SQLException {
        if (node.running != null) {
            throw new IllegalStateException(node + " must be stopped to become a standby");
        }
        try (Connection c = admin(primary);
             PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true) "
                     + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, node.slot());
            ps.setString(2, node.slot());
            ps.execute();
        }
        writeStandbyConfig(node, primary);
        start(node);
    }

    /** The stand-in for a fenced primary: new transactions are read-only, writes fail with 25006. */
    public void setReadOnly(Node node, boolean readOnly) throws SQLException {
        try (Connection c = admin(node); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET default_transaction_read_only = " + (readOnly ? "on" : "off"));
            s.execute("SELECT pg_reload_conf()");
        }
    }

    public boolean isInRecovery(Node node) throws SQLException {
        try (Connection c = admin(node); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Waits until {@code standby} has replayed everything its primary (the other node) has written so far. */
    public void awaitReplayed(Node standby) throws SQLException {
        Node primary = other(standby);
        String target;
        try (Connection c = admin(primary); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            target = rs.getString(1);
        }
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() -> {
            try (Connection c = admin(standby);
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT coalesce(pg_last_wal_replay_lsn() >= ?::pg_lsn, false)")) {
                ps.setString(1, target);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    /** Stops both nodes and deletes their directories. */
    @Override
    public void close() throws IOException {
        List<Exception> failures = new ArrayList<>();
        for (Node node : List.of(a, b)) {
            try {
                stopFast(node);
            } catch (IOException | RuntimeException e) {
                failures.add(e);
            }
            // A node whose fast stop failed or timed out must not outlive the test.
            killLeftover(node);
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        if (!failures.isEmpty()) {
            IOException e = new IOException("stopping the replicated cluster failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    private void killLeftover(Node node) {
        try {
            OptionalLong leftover = node.files.postmasterPid();
            if (leftover.isPresent()) {
                long pid = leftover.getAsLong();
                if (!exited(pid)) {
                    signalQuit(pid);
                    await().atMost(STOP_TIMEOUT).pollInterval(Duration.ofMillis(20)).until(() -> exited(pid));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not stop leftover postmaster of {}", node, e);
        }
    }

    private static void writeStandbyConfig(Node node, Node primary) throws IOException {
        node.files.makeStandby("host=127.0.0.1 port=" + primary.port + " user=postgres application_name="
                + node.slot(), node.slot());
    }

    /**
     * Whether the process has exited. A zombie counts: the postmaster's parent is whoever adopted it after pg_ctl
     * left (here a PID 1 that reaps only now and then, over a second late), and a zombie holds no port or memory.
     */
    private static boolean exited(long pid) throws IOException {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        String line;
        try {
            line = Files.readString(stat);
        } catch (java.nio.file.NoSuchFileException e) {
            return true;
        }
        // The state follows the command in parentheses, which may itself hold spaces or parentheses.
        int end = line.lastIndexOf(')');
        return end < 0 || end + 2 >= line.length() || line.charAt(end + 2) == 'Z' || line.charAt(end + 2) == 'X';
    }

    private static void signalQuit(long pid) throws IOException {
        try {
            Process kill = new ProcessBuilder("kill", "-QUIT", Long.toString(pid)).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IOException("kill -QUIT " + pid + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted signalling " + pid, e);
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
