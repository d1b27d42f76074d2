package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Issue 7: through pgwarden a client sees what it would see connected to PostgreSQL itself. */
class ProtocolFidelityTest {

    /** What a server answers to a raw startup packet: its first message, type and body. */
    private static byte[] firstAnswer(int port, int version, String... params) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            StartupPacket.send(socket.getOutputStream(), version, params);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte type = in.readByte();
            int length = in.readInt();
            byte[] message = new byte[length + 1];
            message[0] = type;
            message[1] = (byte) (length >>> 24);
            message[2] = (byte) (length >>> 16);
            message[3] = (byte) (length >>> 8);
            message[4] = (byte) length;
            in.readFully(message, 5, length - 4);
            return message;
        }
    }

    @Test
    void newerProtocolVersionsAndUnknownOptionsAreNegotiatedByteForByteAsPostgresDoes() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: session")) {
            for (String[] params : List.of(new String[] {"user", "app", "database", "appdb"},
                    new String[] {"user", "app", "database", "appdb", "_pq_.unknown_option", "x"})) {
                byte[] direct = firstAnswer(TestPostgres.shared().port(), (3 << 16) | 2, params);
                byte[] proxied = firstAnswer(proxy.port(), (3 << 16) | 2, params);
                assertThat((char) direct[0]).isEqualTo('v');
                assertThat(proxied).as("NegotiateProtocolVersion for %s", String.join(",", params)).isEqualTo(direct);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void errorsCarryTheSameFieldsAsOnADirectConnection(String mode) throws Exception {
        List<String> statements = List.of("SELEC 1", "SELECT nosuchcolumn FROM pg_class", "SELECT 1/0",
                "SELECT 'x'::int", "CREATE TEMP TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1), (1)",
                "SET statement_timeout = '10ms'; SELECT pg_sleep(1)", "DO $$ BEGIN RAISE EXCEPTION 'custom' "
                        + "USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = 'P0042'; END $$");
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode)) {
            for (String sql : statements) {
                ServerErrorMessage direct = errorOf(DriverManager.getConnection(
                        TestPostgres.shared().directUrl("appdb"), "app", TestPostgres.APP_PASSWORD), sql);
                ServerErrorMessage proxied = errorOf(proxy.connect(), sql);
                assertThat(List.of(proxied.getSQLState(), proxied.getSeverity(), proxied.getMessage(),
                        String.valueOf(proxied.getDetail()), String.valueOf(proxied.getHint()), proxied.getPosition()))
                        .as(sql).isEqualTo(List.of(direct.getSQLState(), direct.getSeverity(), direct.getMessage(),
                                String.valueOf(direct.getDetail()), String.valueOf(direct.getHint()), direct.getPosition()));
            }
        }
    }

    private static ServerErrorMessage errorOf(Connection c, String sql) throws SQLException {
        try (c; Statement s = c.createStatement()) {
            s.execute(sql);
            throw new AssertionError("no error for " + sql);
        } catch (PSQLException e) {
            return e.getServerErrorMessage();
        }
    }

    /** All ParameterStatus messages of a login, as (name, value). */
    private static Map<String, String> loginParameters(int port) throws Exception {
        try (RawLogin login = new RawLogin(port, "user", "trustuser", "database", "appdb", "application_name", "fid",
                "TimeZone", "Asia/Tokyo", "DateStyle", "ISO", "options", "-c search_path=pg_catalog")) {
            return login.parameters;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void theParameterStatusSetIsTheSameAsOnADirectConnection(String mode) throws Exception {
        Map<String, String> direct = loginParameters(TestPostgres.shared().port());
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode)) {
            Map<String, String> proxied = loginParameters(proxy.port());
            if (mode.equals("transaction")) {
                // A second login is served from the pool's cached parameters.
                proxied = loginParameters(proxy.port());
            }
            direct.remove("scram_iterations");
            proxied.remove("scram_iterations");
            assertThat(proxied).isEqualTo(direct);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void startupOptionsTakeEffect(String mode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode)) {
            Properties props = new Properties();
            props.setProperty("options", "-c search_path=pg_catalog -c statement_timeout=50");
            try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, props);
                 Statement s = c.createStatement()) {
                for (int i = 0; i < 3; i++) {
                    try (ResultSet rs = s.executeQuery("SHOW search_path")) {
                        rs.next();
                        assertThat(rs.getString(1)).isEqualTo("pg_catalog");
                    }
                    assertThatThrownBy(() -> s.execute("SELECT pg_sleep(0.5)"))
                            .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
                }
            }
        }
    }

    @Test
    void sessionModeClientsSeeTheirBackendsRealPid() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: session"); Connection c = proxy.connect();
             Connection other = proxy.connect()) {
            int told = c.unwrap(PGConnection.class).getBackendPID();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(told);
            }
            try (Statement s = c.createStatement()) {
                s.execute("LISTEN fidelity");
                s.execute("NOTIFY fidelity, 'self'");
            }
            PGNotification[] received = c.unwrap(PGConnection.class).getNotifications(5_000);
            assertThat(received).hasSize(1);
            assertThat(received[0].getPID()).isEqualTo(told);
            try (Statement s = other.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT pg_terminate_backend(" + told + ")")) {
                rs.next();
                assertThat(rs.getBoolean(1)).isTrue();
            }
            assertThatThrownBy(() -> c.createStatement().execute("SELECT 1"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).startsWith("08"));
        }
    }

    @Test
    void sessionStateWorksAndNoneOfItReachesTheNextClient() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: session\nmax_size: 1")) {
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE t (v int)");
                s.execute("INSERT INTO t VALUES (1)");
                s.execute("SELECT pg_advisory_lock(4242)");
                s.execute("LISTEN leftover");
                s.execute("SET ROLE app");
                c.setAutoCommit(false);
                s.execute("DECLARE held CURSOR WITH HOLD FOR SELECT generate_series(1, 3)");
                c.commit();
                c.setAutoCommit(true);
                long oid;
                try (ResultSet rs = s.executeQuery("SELECT lo_create(0)")) {
                    rs.next();
                    oid = rs.getLong(1);
                }
                try (ResultSet rs = s.executeQuery("FETCH 2 FROM held")) {
                    assertThat(rs.next()).isTrue();
                }
                s.execute("SELECT lo_unlink(" + oid + ")");
            }
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                assertThat(value(s, "SELECT count(*) FROM pg_class WHERE relname = 't' AND relpersistence = 't'")).as("SELECT count(*) FROM pg_class WHERE relname = 't' AND relpersistence = 't'").isEqualTo("0");
                assertThat(value(s, "SELECT pg_try_advisory_lock(4242)")).as("SELECT pg_try_advisory_lock(4242)").isEqualTo("t");
                assertThat(value(s, "SELECT count(*) FROM pg_listening_channels()")).as("SELECT count(*) FROM pg_listening_channels()").isEqualTo("0");
                assertThat(value(s, "SELECT current_user = session_user")).as("SELECT current_user = session_user").isEqualTo("t");
                assertThat(value(s, "SELECT count(*) FROM pg_cursors WHERE name = 'held'")).as("SELECT count(*) FROM pg_cursors WHERE name = 'held'").isEqualTo("0");
            }
        }
    }

    @Test
    void dropDatabaseSucceedsRightAfterTheLastClientOfThatDatabaseLeft() throws Exception {
        try (Connection su = TestPostgres.shared().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS scratchdb");
            s.execute("CREATE DATABASE scratchdb OWNER app");
        }
        String yaml = """
                listen:
                  port: 0
                defaults:
                  pool_mode: session
                  min_size: 2
                databases:
                  appdb:
                    port: ${PG_PORT}
                  scratchdb:
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                """;
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port())) {
            try (Connection c = proxy.connect("scratchdb", "app", TestPostgres.APP_PASSWORD, new Properties());
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE x (v int)");
            }
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE scratchdb");
            }
        }
    }

    @Test
    void transactionModeClientsWithRolesOrTempTablesArePinnedAndNothingLeaks() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2")) {
            int pinnedPid;
            try (Connection pinnedClient = proxy.connect(); Statement s = pinnedClient.createStatement()) {
                s.execute("CREATE TEMP TABLE mine (v int)");
                assertThat((Object) s.getWarnings()).isNotNull();
                assertThat(s.getWarnings().getMessage()).contains("keeps its server connection").contains("temporary table");
                s.execute("SET ROLE app");
                pinnedPid = Integer.parseInt(value(s, "SELECT pg_backend_pid()::text"));
                try (Connection other = proxy.connect(); Statement o = other.createStatement()) {
                    for (int i = 0; i < 5; i++) {
                        s.execute("INSERT INTO mine VALUES (" + i + ")");
                        assertThat(value(o, "SELECT count(*) FROM pg_class WHERE relname = 'mine' AND relnamespace = pg_my_temp_schema()")).isEqualTo("0");
                        assertThat(value(o, "SELECT pg_backend_pid()::text")).isNotEqualTo(String.valueOf(pinnedPid));
                    }
                }
                assertThat(value(s, "SELECT count(*) FROM mine")).isEqualTo("5");
                assertThat(value(s, "SELECT pg_backend_pid()::text")).isEqualTo(String.valueOf(pinnedPid));
            }
            // Its backend was reset (DISCARD ALL) before going back to the pool.
            try (Connection a = proxy.connect(); Connection b = proxy.connect();
                 Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
                a.setAutoCommit(false);
                b.setAutoCommit(false);
                for (Statement st : List.of(sa, sb)) {
                    assertThat(value(st, "SELECT count(*) FROM pg_class WHERE relname = 'mine' AND relnamespace = pg_my_temp_schema()")).isEqualTo("0");
                    assertThat(value(st, "SELECT current_user = session_user")).isEqualTo("t");
                }
            }
        }
    }

    private static String value(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Logs in with a cleartext password (or none, directly under trust) and keeps every ParameterStatus. */
    private static final class RawLogin implements AutoCloseable {
        final Map<String, String> parameters = new LinkedHashMap<>();
        private final Socket socket;

        RawLogin(int port, String... params) throws Exception {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            StartupPacket.send(socket.getOutputStream(), 3 << 16, params);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            while (true) {
                char type = (char) in.readByte();
                byte[] message = new byte[in.readInt() - 4];
                in.readFully(message);
                if (type == 'R' && message[3] == 3) {
                    byte[] password = "trust-secret\0".getBytes(StandardCharsets.UTF_8);
                    out.writeByte('p');
                    out.writeInt(4 + password.length);
                    out.write(password);
                    out.flush();
                } else if (type == 'S') {
                    String[] kv = new String(message, StandardCharsets.UTF_8).split("\0");
                    parameters.put(kv[0], kv.length > 1 ? kv[1] : "");
                } else if (type == 'E') {
                    throw new IllegalStateException(new String(message, StandardCharsets.UTF_8));
                } else if (type == 'Z') {
                    return;
                }
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
        }
    }
}
