package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

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
}
