package io.pgwarden.it.drivers;

import static org.awaitility.Awaitility.await;

import io.pgwarden.it.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * Lets role app open replication connections to the shared test PostgreSQL: a pg_hba line for them (the shared
 * file's "all" does not cover replication) and the REPLICATION attribute. Other tests are unaffected: they never
 * ask for replication.
 */
final class ReplicationAccess {

    private static final String LINE = "host replication app 127.0.0.1/32 scram-sha-256";

    private ReplicationAccess() {
    }

    static synchronized void allow() throws SQLException, IOException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("ALTER ROLE app REPLICATION");
            Path hba;
            try (ResultSet rs = s.executeQuery("SHOW hba_file")) {
                rs.next();
                hba = Path.of(rs.getString(1));
            }
            if (!Files.readString(hba).contains(LINE)) {
                Files.writeString(hba, LINE + "\n", StandardOpenOption.APPEND);
                s.execute("SELECT pg_reload_conf()");
            }
        }
        // The reload is a signal; the postmaster reads the file a moment later.
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(ReplicationAccess::canConnect);
    }

    private static boolean canConnect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "app");
        props.setProperty("password", TestPostgres.APP_PASSWORD);
        props.setProperty("replication", "database");
        props.setProperty("preferQueryMode", "simple");
        props.setProperty("assumeMinServerVersion", "10");
        try (Connection c = DriverManager.getConnection(TestPostgres.shared().directUrl("appdb"), props)) {
            return true;
        }
    }
}
