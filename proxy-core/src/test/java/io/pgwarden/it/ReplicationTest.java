package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * Issue 13, item 10: replication connections (pgjdbc's replication API, pg_recvlogical, raw walsender clients)
 * pass through pgwarden on backends of their own, with COPY BOTH both ways, cancel, and both ends closing
 * together.
 */
class ReplicationTest {

    private static final String REPL_PASSWORD = "repl-secret";
    private static final String RAW_PASSWORD = "raw-secret";

    private static TestProxy proxy;

    @BeforeAll
    static void start() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN CREATE ROLE repl LOGIN REPLICATION PASSWORD '" + REPL_PASSWORD + "'; "
                    + "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
            s.execute("DO $$ BEGIN CREATE ROLE repl_raw LOGIN REPLICATION PASSWORD '" + RAW_PASSWORD + "'; "
                    + "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        }
        try (Connection c = java.sql.DriverManager.getConnection(TestPostgres.shared().directUrl("appdb"),
                "app", TestPostgres.APP_PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS repl_items (id serial PRIMARY KEY, name text)");
        }
        proxy = TestProxy.fromYaml(() -> """
                listen:
                  host: 127.0.0.1
                  port: 0
                  worker_threads: 2
                defaults:
                  pool_mode: transaction
                  max_size: 1
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                  admin:
                    password: admin-secret
                  repl:
                    password: %s
                  repl_raw:
                    password: %s
                    auth: cleartext
                admin:
                  users: [admin]
                """.formatted(REPL_PASSWORD, RAW_PASSWORD), TestPostgres.shared().port());
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void pgjdbcLogicalReplicationStreamsChangesAndTheBackendEndsWithTheClient() throws Exception {
        String app = "pgw-repl-jdbc";
        String slot = "pgw_jdbc_slot";
        try (Connection c = replicationConnection("database", app)) {
            PGConnection pg = c.unwrap(PGConnection.class);
            pg.getReplicationAPI().createReplicationSlot().logical().withSlotName(slot)
                    .withOutputPlugin("test_decoding").withTemporaryOption().make();
            try (PGReplicationStream stream = pg.getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot).withSlotOption("include-xids", false).withStatusInterval(1, TimeUnit.SECONDS)
                    .start()) {
                try (Connection app1 = proxy.connect(); Statement s = app1.createStatement()) {
                    s.execute("INSERT INTO repl_items (name) VALUES ('alpha'), ('beta')");
                }
                StringBuilder seen = new StringBuilder();
                // Bounded by the socket timeout of each read, and by the count.
                for (int i = 0; i < 50 && !seen.toString().contains("'beta'"); i++) {
                    ByteBuffer message = stream.read();
                    seen.append(new String(message.array(), message.arrayOffset() + message.position(),
                            message.remaining(), StandardCharsets.UTF_8)).append('\n');
                }
                assertThat(seen.toString()).contains("table public.repl_items: INSERT:")
                        .contains("name[text]:'alpha'").contains("name[text]:'beta'");

                // Seen by operators as what it is, not as a pooled client.
                try (Connection admin = admin()) {
                    assertThat(show(admin, "SHOW CLIENTS")).anySatisfy(row -> {
                        assertThat(row.get("user")).isEqualTo("repl");
                        assertThat(row.get("state")).isEqualTo("replication");
                        assertThat(row.get("link_pid")).isEqualTo(String.valueOf(walsenderPid(app)));
                    });
                    assertThat(show(admin, "SHOW SERVERS")).anySatisfy(row -> {
                        assertThat(row.get("state")).isEqualTo("replication");
                        assertThat(row.get("remote_pid")).isEqualTo(String.valueOf(walsenderPid(app)));
                    });
                }

                // Standby status updates (CopyData from the client) reach the walsender.
                LogSequenceNumber received = stream.getLastReceiveLSN();
                stream.setAppliedLSN(received);
                stream.setFlushedLSN(received);
                stream.forceUpdateStatus();
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThat(flushLsn(app)).isGreaterThanOrEqualTo(received.asLong()));
            }
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(walsenderPid(app)).as("walsender of the closed client").isZero();
            assertThat(slotExists(slot)).as("temporary slot dropped with its walsender").isFalse();
        });
    }

    @Test
    void physicalReplicationAnswersIdentifySystemAndStreamsWal() throws Exception {
        long systemId;
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT system_identifier FROM pg_control_system()")) {
            rs.next();
            systemId = rs.getLong(1);
        }
        try (Connection c = replicationConnection("true", "pgw-repl-physical")) {
            LogSequenceNumber position;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("IDENTIFY_SYSTEM")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong("systemid")).isEqualTo(systemId);
                assertThat(rs.getInt("timeline")).isPositive();
                assertThat(rs.getString("dbname")).as("physical: no database").isNull();
                position = LogSequenceNumber.valueOf(rs.getString("xlogpos"));
            }
            try (PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream()
                    .physical().withStartPosition(position).start()) {
                try (Connection app = proxy.connect(); Statement s = app.createStatement()) {
                    s.execute("INSERT INTO repl_items (name) VALUES ('physical')");
                }
                ByteBuffer wal = stream.read();
                assertThat(wal.remaining()).isPositive();
                assertThat(stream.getLastReceiveLSN().asLong()).isGreaterThanOrEqualTo(position.asLong());
            }
        }
    }

    @Test
    void cancelReachesTheReplicationBackend() throws Exception {
        try (Connection c = replicationConnection("database", "pgw-repl-cancel"); Statement s = c.createStatement()) {
            s.setQueryTimeout(1);
            long started = System.nanoTime();
            assertThatThrownBy(() -> s.execute("SELECT pg_sleep(30)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
            // The connection stays usable, as directly.
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void replicationConnectionsDoNotTakeThePoolsBackends() throws Exception {
        // max_size is 1: a walsender holding it would leave app's clients waiting until query_wait_timeout.
        try (Connection repl1 = replicationConnection("database", "pgw-repl-pool1");
             Connection repl2 = replicationConnection("database", "pgw-repl-pool2");
             Connection app = proxy.connect(); Statement s = app.createStatement();
             ResultSet rs = s.executeQuery("SELECT 42")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
            assertThat(repl1.isValid(5)).isTrue();
            assertThat(repl2.isValid(5)).isTrue();
        }
    }

    @Test
    void postgresRefusalOfAWalsenderReachesTheClientAsIs() {
        Properties props = new Properties();
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        // app has no REPLICATION attribute: PostgreSQL says so, pgwarden passes it on.
        assertThatThrownBy(() -> proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, props).close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains("WAL sender");
                });
    }

    @Test
    void replicationOffIsAnOrdinaryConnection() throws Exception {
        String app = "pgw-repl-off";
        try (RawClient raw = rawReplication(app, 0, "off")) {
            raw.query("SELECT 1");
            raw.expect('Z');
            assertThat(walsenderPid(app)).isZero();
            try (Connection admin = admin()) {
                assertThat(show(admin, "SHOW CLIENTS")).anySatisfy(row -> {
                    assertThat(row.get("user")).isEqualTo("repl_raw");
                    assertThat(row.get("state")).isEqualTo("idle");
                });
            }
        }
    }

    @Test
    void aClientVanishingMidStreamTakesItsWalsenderWithIt() throws Exception {
        String app = "pgw-repl-raw";
        try (RawClient raw = rawReplication(app, 0)) {
            raw.query("CREATE_REPLICATION_SLOT pgw_raw_slot TEMPORARY LOGICAL test_decoding");
            raw.expect('Z');
            raw.query("START_REPLICATION SLOT pgw_raw_slot LOGICAL 0/0");
            raw.expect('W');
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO repl_items (name) VALUES ('raw')");
            }
            // XLogData ('w' inside CopyData) with the change arrives.
            assertThat(copyDataUntil(raw, "'raw'")).contains("INSERT");
            assertThat(walsenderPid(app)).isPositive();
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(walsenderPid(app)).as("walsender of the vanished client").isZero();
            assertThat(slotExists("pgw_raw_slot")).isFalse();
        });
        try (Connection admin = admin()) {
            assertThat(show(admin, "SHOW CLIENTS")).noneSatisfy(row ->
                    assertThat(row.get("state")).isEqualTo("replication"));
        }
    }

    @Test
    void aWalsenderEndedByPostgresEndsItsClientWithPostgresError() throws Exception {
        String app = "pgw-repl-terminated";
        try (RawClient raw = rawReplication(app, 0)) {
            raw.query("IDENTIFY_SYSTEM");
            raw.expect('Z');
            try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + walsenderPid(app) + ")");
            }
            assertThat(new String(raw.expect('E'), StandardCharsets.UTF_8)).contains("C57P01");
            assertThat(raw.atEnd()).as("pgwarden closes the client after PostgreSQL's FATAL").isTrue();
        }
        try (Connection admin = admin()) {
            assertThat(show(admin, "SHOW CLIENTS")).noneSatisfy(row ->
                    assertThat(row.get("state")).isEqualTo("replication"));
        }
    }

    @Test
    void aSlowConsumerHoldsBackTheWalsenderInsteadOfFillingPgwardensMemory() throws Exception {
        String app = "pgw-repl-slow";
        try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS repl_bulk (id int, payload text)");
        }
        try (RawClient raw = rawReplication(app, 32 * 1024)) {
            raw.query("CREATE_REPLICATION_SLOT pgw_slow_slot TEMPORARY LOGICAL test_decoding");
            raw.expect('Z');
            raw.query("START_REPLICATION SLOT pgw_slow_slot LOGICAL 0/0");
            raw.expect('W');
            // About 40 MB of decoded changes, in transactions of about 1 MB, which the client does not read yet.
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                for (int i = 0; i < 40; i++) {
                    s.execute("INSERT INTO repl_bulk SELECT g, repeat('x', 1000) FROM generate_series(1, 1000) g");
                }
                s.execute("INSERT INTO repl_items (name) VALUES ('slow-end')");
            }
            long end = currentWalLsn();
            // The walsender stops where the sockets are full: pgwarden stopped reading it.
            java.util.concurrent.atomic.AtomicLong previous = new java.util.concurrent.atomic.AtomicLong(-1);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                // The client still answers (wal_sender_timeout), while it reads nothing.
                standbyStatus(raw);
                long sent = sentLsn(app);
                return sent == previous.getAndSet(sent);
            });
            assertThat(walsenderWaitEvent(app)).as("the walsender waits for its socket")
                    .isEqualTo("WalSenderWriteData");
            long behind = end - sentLsn(app);
            assertThat(behind).as("WAL not yet sent while the client reads nothing").isGreaterThan(10L << 20);
            // Reading again, the client gets all of it.
            assertThat(copyDataUntil(raw, "'slow-end'")).isNotEmpty();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(sentLsn(app)).isGreaterThanOrEqualTo(end));
        }
    }

    @Test
    void pgRecvlogicalStreamsThroughPgwarden() throws Exception {
        Path bin = CommandLineClientsTest.clientBinary("pg_recvlogical");
        List<String> connection = List.of("-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", "repl",
                "-d", "appdb", "--slot", "pgw_recv_slot");
        Result create = run(concat(List.of(bin.toString(), "--create-slot", "-P", "test_decoding"), connection));
        assertThat(create.exitCode()).as(create.output()).isZero();
        try {
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO repl_items (name) VALUES ('gamma'), ('delta')");
            }
            // Streams until stopped: --endpos may end on a keepalive before the changes arrive, directly too.
            Path out = Files.createTempFile("pgw-recvlogical", ".txt");
            Path log = Files.createTempFile("pgw-recvlogical", ".log");
            ProcessBuilder builder = new ProcessBuilder(concat(List.of(bin.toString(), "--start", "--no-loop",
                    "-f", out.toString()), connection)).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(Map.of("PGPASSWORD", REPL_PASSWORD, "PGCONNECT_TIMEOUT", "10"));
            Process stream = builder.start();
            try {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Files.readString(out))
                        .contains("name[text]:'gamma'").contains("name[text]:'delta'"));
            } finally {
                // SIGINT: pg_recvlogical ends the COPY BOTH with CopyDone, waits for the server's, and exits 0.
                new ProcessBuilder("kill", "-INT", String.valueOf(stream.pid())).start().waitFor(10, TimeUnit.SECONDS);
                boolean stopped = stream.waitFor(20, TimeUnit.SECONDS);
                stream.destroyForcibly();
                assertThat(stopped).as("pg_recvlogical stopped").isTrue();
                Files.deleteIfExists(out);
            }
            assertThat(stream.exitValue()).as(Files.readString(log)).isZero();
            Files.deleteIfExists(log);
        } finally {
            Result drop = run(concat(List.of(bin.toString(), "--drop-slot"), connection));
            assertThat(drop.exitCode()).as(drop.output()).isZero();
        }
        assertThat(slotExists("pgw_recv_slot")).isFalse();
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static Connection replicationConnection(String replication, String applicationName) throws SQLException {
        Properties props = new Properties();
        PGProperty.REPLICATION.set(props, replication);
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        PGProperty.APPLICATION_NAME.set(props, applicationName);
        return proxy.connect("appdb", "repl", REPL_PASSWORD, props);
    }

    private static Connection admin() throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return proxy.connect("pgwarden", "admin", "admin-secret", simple);
    }

    private static List<Map<String, String>> show(Connection admin, String command) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery(command)) {
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    row.put(rs.getMetaData().getColumnName(i), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    /** The pid of the walsender serving {@code applicationName}, or 0 when there is none. */
    private static int walsenderPid(String applicationName) throws SQLException {
        String pid = replicationStat("pid::text", applicationName);
        return pid == null ? 0 : Integer.parseInt(pid);
    }

    private static long flushLsn(String applicationName) throws SQLException {
        String lsn = replicationStat("flush_lsn::text", applicationName);
        return lsn == null ? 0 : LogSequenceNumber.valueOf(lsn).asLong();
    }

    private static long sentLsn(String applicationName) throws SQLException {
        String lsn = replicationStat("sent_lsn::text", applicationName);
        return lsn == null ? 0 : LogSequenceNumber.valueOf(lsn).asLong();
    }

    /** {@code column} of pg_stat_replication for the walsender serving {@code applicationName}, or null. */
    private static String replicationStat(String column, String applicationName) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT " + column + " FROM pg_stat_replication WHERE application_name = ?")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static String walsenderWaitEvent(String applicationName) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser();
             PreparedStatement ps = c.prepareStatement("SELECT a.wait_event FROM pg_stat_replication r "
                     + "JOIN pg_stat_activity a USING (pid) WHERE r.application_name = ?")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static long currentWalLsn() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
        }
    }

    private static boolean slotExists(String slot) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(Map.of("PGPASSWORD", REPL_PASSWORD, "PGCONNECT_TIMEOUT", "10"));
        Process process = builder.start();
        try {
            // Bounded: a stream that never reaches its end position is killed, and the test says so.
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(command.get(0) + " did not finish within 60 s: "
                        + new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
        }
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> part : parts) {
            all.addAll(part);
        }
        return all;
    }

    /** A walsender client speaking the protocol by hand, as the cleartext user repl_raw; closes with a reset. */
    private static RawClient rawReplication(String applicationName, int receiveBuffer) throws IOException {
        return rawReplication(applicationName, receiveBuffer, "database");
    }

    /** @param receiveBuffer the socket's receive buffer, or 0 for the system's */
    private static RawClient rawReplication(String applicationName, int receiveBuffer, String replication)
            throws IOException {
        return new RawClient(proxy.port(), receiveBuffer, 20_000, RAW_PASSWORD, "user", "repl_raw",
                "database", "appdb", "replication", replication, "application_name", applicationName);
    }

    /**
     * Reads CopyData until an XLogData message contains {@code marker} (bounded by the socket timeout);
     * returns the first changes seen (up to 64 KiB) and the marker's.
     */
    private static String copyDataUntil(RawClient raw, String marker) throws IOException {
        StringBuilder kept = new StringBuilder();
        while (true) {
            byte[] body = raw.expect('d');
            if (body.length > 25 && body[0] == 'w') {
                // 'w', start, end, send time (8 bytes each), then the plugin's output.
                String change = new String(body, 25, body.length - 25, StandardCharsets.UTF_8);
                if (kept.length() < 64 * 1024) {
                    kept.append(change).append('\n');
                }
                if (change.contains(marker)) {
                    return kept.append(change).toString();
                }
            }
        }
    }

    /** A standby status update saying nothing is confirmed yet: keeps the walsender from timing out. */
    private static void standbyStatus(RawClient raw) throws IOException {
        ByteBuffer update = ByteBuffer.allocate(34);
        update.put((byte) 'r').putLong(0).putLong(0).putLong(0).putLong(0).put((byte) 0);
        raw.copyData(update.array());
    }
}
