package io.pgwarden.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;

/**
 * One real PostgreSQL 17 for the whole test JVM (embedded binaries from Maven Central). Roles:
 * {@code app} (SCRAM), {@code md5user} (md5), {@code trustuser} (trust), {@code clearuser} (cleartext password); database {@code appdb}.
 * The superuser {@code postgres} connects directly with trust, to watch pg_stat_activity. {@code wal_level} is
 * {@code logical}, and pg_hba.conf admits replication connections with the same methods as the others.
 */
public final class TestPostgres {

    public static final String APP_PASSWORD = "app-secret";
    public static final String MD5_PASSWORD = "md5-secret";
    /** Of {@code clearuser}, whom pg_hba.conf asks for its password in clear text ({@code password} method). */
    public static final String CLEARTEXT_PASSWORD = "clear-secret";

    private static TestPostgres shared;

    private final EmbeddedPostgres postgres;

    private TestPostgres(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /** Started on first use; stopped by the JVM's shutdown. */
    public static synchronized TestPostgres shared() {
        if (shared == null) {
            shared = start();
        }
        return shared;
    }

    private static TestPostgres start() {
        try {
            Path hba = Files.createTempFile("pgwarden-test-hba", ".conf");
            Files.writeString(hba, String.join("\n",
                    "local all all trust",
                    "host all postgres 127.0.0.1/32 trust",
                    "host all postgres ::1/128 trust",
                    "host all trustuser 127.0.0.1/32 trust",
                    "host all md5user 127.0.0.1/32 md5",
                    "host all clearuser 127.0.0.1/32 password",
                    "host all all 127.0.0.1/32 scram-sha-256",
                    "host all all ::1/128 scram-sha-256",
                    // Physical replication matches only "replication" (logical matches the database's lines).
                    "host replication postgres 127.0.0.1/32 trust",
                    "host replication all 127.0.0.1/32 scram-sha-256", ""));
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setServerConfig("hba_file", hba.toString())
                    .setServerConfig("max_connections", "300")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // For ReplicationTest; nothing else reads WAL, and the extra WAL of logical is negligible here.
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_wal_senders", "10")
                    .setServerConfig("max_replication_slots", "10")
                    .start();
            TestPostgres pg = new TestPostgres(postgres);
            try (Connection c = pg.superuser(); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE app LOGIN PASSWORD '" + APP_PASSWORD + "'");
                s.execute("SET password_encryption = 'md5'");
                s.execute("CREATE ROLE md5user LOGIN PASSWORD '" + MD5_PASSWORD + "'");
                s.execute("CREATE ROLE trustuser LOGIN");
                s.execute("CREATE ROLE clearuser LOGIN PASSWORD '" + CLEARTEXT_PASSWORD + "'");
                s.execute("CREATE DATABASE appdb OWNER app");
                s.execute("GRANT ALL ON DATABASE appdb TO md5user, trustuser, clearuser");
            }
            try (Connection c = DriverManager.getConnection(pg.directUrl("appdb"), "postgres", "");
                 Statement s = c.createStatement()) {
                s.execute("GRANT ALL ON SCHEMA public TO md5user, trustuser, clearuser");
            }
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return postgres.getPort();
    }

    public String directUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    public Connection superuser() throws SQLException {
        return DriverManager.getConnection(directUrl("postgres"), "postgres", "");
    }

    /** The server's clock now: backends of earlier tests started before it, so counts can leave them out. */
    public Timestamp clock() throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }

    /** Backends of {@code user} on appdb that started at or after {@code since}. */
    public int backendsSince(Timestamp since, String user) throws SQLException {
        try (Connection c = superuser();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE usename = ? AND datname = 'appdb' AND backend_start >= ?")) {
            ps.setString(1, user);
            ps.setTimestamp(2, since);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
