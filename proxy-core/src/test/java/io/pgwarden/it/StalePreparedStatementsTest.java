package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 2: in transaction mode, a statement prepared after a schema change sees the new schema, and a
 * statement prepared before it behaves as it would directly against PostgreSQL. Each program runs once directly and
 * once through pgwarden (one backend, so every client lands where the other prepared), and the two transcripts
 * must agree.
 */
class StalePreparedStatementsTest {

    private static final String POOL = "pool_mode: transaction\nmax_size: 1";

    @FunctionalInterface
    private interface Connector {
        Connection connect() throws SQLException;
    }

    private static Connector direct() {
        return () -> DriverManager.getConnection(TestPostgres.shared().directUrl("appdb"), props());
    }

    private static Connector through(TestProxy proxy) {
        return () -> proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, props());
    }

    private static Properties props() {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestPostgres.APP_PASSWORD);
        // Server-side from the first execution, as an application's hot statements are.
        p.setProperty("prepareThreshold", "1");
        return p;
    }

    private static void ddl(String... statements) throws SQLException {
        try (Connection c = direct().connect(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    /** One line per execution: column type and value, or the error's SQLSTATE. */
    private static String run(PreparedStatement ps) {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getMetaData().getColumnTypeName(1) + " " + rs.getString(1);
        } catch (SQLException e) {
            return "error " + e.getSQLState() + " " + e.getMessage().replaceAll("\\d{4,}", "N");
        }
    }

    private static List<String> alterDateToTime(Connector connector) throws SQLException {
        ddl("DROP TABLE IF EXISTS stale_dates",
                "CREATE TABLE stale_dates (id int, d date)",
                "INSERT INTO stale_dates VALUES (1, '2024-05-06')");
        List<String> out = new ArrayList<>();
        String sql = "SELECT d FROM stale_dates WHERE id = ?";
        try (Connection a = connector.connect(); PreparedStatement pa = a.prepareStatement(sql)) {
            pa.setInt(1, 1);
            out.add("A " + run(pa));
            ddl("ALTER TABLE stale_dates ALTER d TYPE time USING time '12:34:56'");
            try (Connection b = connector.connect(); PreparedStatement pb = b.prepareStatement(sql)) {
                pb.setInt(1, 1);
                out.add("B " + run(pb));
                out.add("B " + run(pb));
            }
            out.add("A " + run(pa));
            out.add("A " + run(pa));
        }
        return out;
    }

    @Test
    void afterAlterColumnTypeAFreshPrepareSeesTheNewTypeAndAnOldOneRecoversAsDirectly() throws Exception {
        List<String> directly = alterDateToTime(direct());
        assertThat(directly).containsExactly("A date 2024-05-06", "B time 12:34:56", "B time 12:34:56",
                "A time 12:34:56", "A time 12:34:56");
        try (TestProxy proxy = TestProxy.start(POOL)) {
            assertThat(alterDateToTime(through(proxy))).isEqualTo(directly);
        }
    }

    private static List<String> recreateType(Connector connector) throws SQLException {
        ddl("DROP TABLE IF EXISTS stale_moods", "DROP TYPE IF EXISTS stale_mood",
                "CREATE TYPE stale_mood AS ENUM ('calm', 'happy')",
                "CREATE TABLE stale_moods (m stale_mood)",
                "INSERT INTO stale_moods VALUES ('happy')");
        List<String> out = new ArrayList<>();
        // The parameter's type is inferred, so the statement holds the type's oid.
        String sql = "SELECT count(*)::text FROM stale_moods WHERE m = ?";
        try (Connection a = connector.connect(); PreparedStatement pa = a.prepareStatement(sql)) {
            pa.setObject(1, "happy", Types.OTHER);
            out.add("A " + run(pa));
            ddl("DROP TABLE stale_moods", "DROP TYPE stale_mood",
                    "CREATE TYPE stale_mood AS ENUM ('happy', 'sad')",
                    "CREATE TABLE stale_moods (m stale_mood)",
                    "INSERT INTO stale_moods VALUES ('happy'), ('sad'), ('happy')");
            try (Connection b = connector.connect(); PreparedStatement pb = b.prepareStatement(sql)) {
                pb.setObject(1, "happy", Types.OTHER);
                out.add("B " + run(pb));
                pb.setObject(1, "sad", Types.OTHER);
                out.add("B " + run(pb));
            }
            out.add("A " + run(pa));
        }
        return out;
    }

    @Test
    void afterDropAndCreateTypeAFreshPrepareUsesTheNewType() throws Exception {
        List<String> directly = recreateType(direct());
        try (TestProxy proxy = TestProxy.start(POOL)) {
            List<String> proxied = recreateType(through(proxy));
            System.out.println("directly: " + directly + "\nthrough pgwarden: " + proxied);
            assertThat(proxied.subList(0, 3)).isEqualTo(directly.subList(0, 3))
                    .containsExactly("A text 1", "B text 2", "B text 1");
        }
    }

    /** The few extended-protocol messages the raw cases need, logged in as the cleartext user. */
    private static final class Wire implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;

        Wire(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
            StartupPacket.send(out, 3 << 16, "user", "trustuser", "database", "appdb");
            until('R');
            send('p', cString("trust-secret"));
            until('Z');
        }

        void parse(String name, String sql) throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(cString(name));
            body.writeBytes(cString(sql));
            body.write(0);
            body.write(0);
            send('P', body.toByteArray());
        }

        void bindExecute(String statement) throws IOException {
            ByteArrayOutputStream bind = new ByteArrayOutputStream();
            bind.writeBytes(cString(""));
            bind.writeBytes(cString(statement));
            bind.writeBytes(new byte[6]);
            send('B', bind.toByteArray());
            ByteArrayOutputStream execute = new ByteArrayOutputStream();
            execute.writeBytes(cString(""));
            execute.writeBytes(new byte[4]);
            send('E', execute.toByteArray());
        }

        void describeStatement(String name) throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write('S');
            body.writeBytes(cString(name));
            send('D', body.toByteArray());
        }

        void send(char type, byte[] body) throws IOException {
            out.writeByte(type);
            out.writeInt(4 + body.length);
            out.write(body);
            out.flush();
        }

        /** Reads up to and including a message of {@code type}, returning the types read and that one's body. */
        String until(char type, StringBuilder types) throws IOException {
            while (true) {
                char t = (char) in.readByte();
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                types.append(t);
                if (t == type) {
                    return new String(body, StandardCharsets.UTF_8);
                }
            }
        }

        String until(char type) throws IOException {
            return until(type, new StringBuilder());
        }

        private static byte[] cString(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            byte[] withNul = new byte[bytes.length + 1];
            System.arraycopy(bytes, 0, withNul, 0, bytes.length);
            return withNul;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void anOutdatedStatementsErrorKeepsTheBackendUntilTheClientsSync() throws Exception {
        ddl("DROP TABLE IF EXISTS stale_raw", "CREATE TABLE stale_raw (d date)",
                "INSERT INTO stale_raw VALUES ('2024-05-06')",
                "GRANT SELECT ON stale_raw TO trustuser");
        try (TestProxy proxy = TestProxy.start(POOL); Wire a = new Wire(proxy.port()); Wire b = new Wire(proxy.port())) {
            a.parse("s1", "SELECT d FROM stale_raw");
            a.bindExecute("s1");
            a.send('S', new byte[0]);
            StringBuilder types = new StringBuilder();
            a.until('Z', types);
            assertThat(types.toString()).isEqualTo("12DCZ");
            ddl("ALTER TABLE stale_raw ALTER d TYPE time USING time '12:34:56'");
            b.parse("s1", "SELECT d FROM stale_raw");
            b.send('S', new byte[0]);
            types.setLength(0);
            b.until('Z', types);
            assertThat(types.toString()).isEqualTo("1Z");

            // A's s1 is outdated; the backend, whose server now skips to Sync, stays A's until A sends it.
            a.describeStatement("s1");
            a.send('H', new byte[0]);
            types.setLength(0);
            String error = a.until('E', types);
            assertThat(error).contains("C0A000", "Mcached plan must not change result type",
                    "RRevalidateCachedQuery");
            b.send('Q', Wire.cString("SELECT 42"));
            a.send('S', new byte[0]);
            assertThat(a.until('Z')).isEqualTo("I");
            types.setLength(0);
            assertThat(b.until('D', types)).contains("42");
            b.until('Z');

            // In a failed transaction, PostgreSQL refuses the Bind before it looks at the statement.
            a.send('Q', Wire.cString("BEGIN"));
            a.until('Z');
            a.send('Q', Wire.cString("SELECT 1/0"));
            assertThat(a.until('Z')).isEqualTo("E");
            a.bindExecute("s1");
            a.send('S', new byte[0]);
            assertThat(a.until('E')).contains("C25P02");
            assertThat(a.until('Z')).isEqualTo("E");
            a.send('Q', Wire.cString("ROLLBACK"));
            assertThat(a.until('Z')).isEqualTo("I");

            // Prepared again, as drivers do after that error, A's statement is the current one.
            a.send('C', new byte[] {'S', 's', '1', 0});
            a.parse("s1", "SELECT d FROM stale_raw");
            a.bindExecute("s1");
            a.send('S', new byte[0]);
            types.setLength(0);
            assertThat(a.until('D', types)).contains("12:34:56");
            a.until('Z');
        }
    }

    @Test
    void aCopyOlderThanTheClientsOwnParseIsPreparedAgainNotReportedAsOutdated() throws Exception {
        ddl("DROP TABLE IF EXISTS stale_two", "CREATE TABLE stale_two (d date)",
                "INSERT INTO stale_two VALUES ('2024-05-06')",
                "GRANT SELECT ON stale_two TO trustuser");
        String sql = "SELECT d FROM stale_two";
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2");
             Wire a = new Wire(proxy.port()); Wire b = new Wire(proxy.port());
             Wire holder = new Wire(proxy.port()); Wire other = new Wire(proxy.port())) {
            // A leaves a copy of the date version on the first backend, then holder keeps that backend.
            a.parse("s1", sql);
            a.bindExecute("s1");
            a.send('S', new byte[0]);
            assertThat(a.until('D')).contains("2024-05-06");
            a.until('Z');
            holder.send('Q', Wire.cString("BEGIN; SELECT pg_backend_pid()::text"));
            String firstBackend = holder.until('D');
            assertThat(holder.until('Z')).isEqualTo("T");
            ddl("ALTER TABLE stale_two ALTER d TYPE time USING time '12:34:56'");
            // B prepares the time version on the second backend, which other then keeps.
            b.parse("s1", sql);
            b.bindExecute("s1");
            b.send('S', new byte[0]);
            assertThat(b.until('D')).contains("12:34:56");
            b.until('Z');
            other.send('Q', Wire.cString("BEGIN"));
            assertThat(other.until('Z')).isEqualTo("T");
            holder.send('Q', Wire.cString("COMMIT"));
            holder.until('Z');

            // B on the first backend: A's copy there is older than B's statement, so B's statement is current.
            b.bindExecute("s1");
            b.parse("", "SELECT pg_backend_pid()::text");
            b.bindExecute("");
            b.send('S', new byte[0]);
            StringBuilder types = new StringBuilder();
            assertThat(b.until('D', types)).contains("12:34:56");
            assertThat(types.toString()).isEqualTo("2D");
            assertThat(b.until('D')).isEqualTo(firstBackend);
            b.until('Z');
            other.send('Q', Wire.cString("COMMIT"));
            other.until('Z');
        }
    }
}
