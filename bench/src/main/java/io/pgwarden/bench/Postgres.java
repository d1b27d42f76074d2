package io.pgwarden.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The PostgreSQL under test: the embedded zonky build (binaries from Maven Central) by default, or a throwaway
 * cluster made with the initdb/pg_ctl of {@code --pg-bin}. Either way it listens on 127.0.0.1 with user app /
 * password app (SCRAM over TCP, so proxies and direct clients log in the same way) and database appdb.
 */
final class Postgres implements AutoCloseable {

    static final String USER = "app";
    static final String PASSWORD = "app";
    static final String DATABASE = "appdb";

    /** What pg_hba.conf says: the superuser may connect without a password for setup, everyone else uses SCRAM. */
    private static final String HBA = """
            local all all trust
            host all postgres 127.0.0.1/32 trust
            host all all 127.0.0.1/32 scram-sha-256
            """;

    private final EmbeddedPostgres embedded;
    private final Path pgBin;
    private final Path dataDir;
    private final int port;
    private final int maxConnections;
    private boolean closed;

    private Postgres(EmbeddedPostgres embedded, Path pgBin, Path dataDir, int port, int maxConnections) {
        this.embedded = embedded;
        this.pgBin = pgBin;
        this.dataDir = dataDir;
        this.port = port;
        this.maxConnections = maxConnections;
    }

    static Postgres start(Path pgBin, Path workDir, int maxConnections) throws Exception {
        Postgres pg;
        if (pgBin == null) {
            Path hba = workDir.resolve("pg_hba.conf");
            Files.writeString(hba, HBA);
            EmbeddedPostgres embedded = EmbeddedPostgres.builder()
                    .setServerConfig("hba_file", hba.toString())
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", Integer.toString(maxConnections))
                    .start();
            pg = new Postgres(embedded, null, null, embedded.getPort(), maxConnections);
        } else {
            pg = startFromBinaries(pgBin, workDir, maxConnections);
        }
        pg.createAppUser();
        return pg;
    }

    /** initdb + pg_ctl start; as root both run as the postgres user, since PostgreSQL refuses to run as root. */
    private static Postgres startFromBinaries(Path pgBin, Path workDir, int maxConnections) throws Exception {
        Path dataDir = workDir.resolve("pgdata");
        Files.createDirectories(dataDir);
        Processes.makeAccessibleToPostgresUser(workDir);
        Processes.giveToPostgresUser(dataDir);
        int port = Processes.freePort();
        Processes.runChecked(Processes.asPostgresUser(List.of(pgBin.resolve("initdb").toString(), "-D",
                dataDir.toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8")), workDir, 120);
        Files.writeString(dataDir.resolve("pg_hba.conf"), HBA);
        Files.writeString(dataDir.resolve("postgresql.auto.conf"), """
                listen_addresses = '127.0.0.1'
                port = %d
                max_connections = %d
                unix_socket_directories = ''
                """.formatted(port, maxConnections));
        Processes.giveToPostgresUser(dataDir);
        Postgres pg = new Postgres(null, pgBin, dataDir, port, maxConnections);
        Path log = workDir.resolve("postgres.log");
        try {
            Processes.runChecked(Processes.asPostgresUser(List.of(pgBin.resolve("pg_ctl").toString(), "-D",
                    dataDir.toString(), "-l", log.toString(), "-w", "-t", "60", "start")), workDir, 90);
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "\n" + (Files.exists(log) ? Files.readString(log) : ""), e);
        }
        return pg;
    }

    private void createAppUser() throws SQLException {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            s.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
            s.execute("CREATE ROLE " + IdleClients.USER + " LOGIN PASSWORD '" + IdleClients.PASSWORD + "'");
        }
    }

    Connection superuser(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", "");
    }

    String version() {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version()")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    int port() {
        return port;
    }

    int maxConnections() {
        return maxConnections;
    }

    String description() {
        // zonky starts its server with -F (fsync off) and synchronous_commit=off: cheap writes, as in its tests.
        return pgBin == null ? "embedded (zonky, Maven Central binaries; fsync off, synchronous_commit off)"
                : pgBin + " (initdb defaults)";
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (embedded != null) {
                embedded.close();
            } else {
                List<String> stop = new ArrayList<>(List.of(pgBin.resolve("pg_ctl").toString(), "-D",
                        dataDir.toString(), "-m", "fast", "-w", "-t", "30", "stop"));
                Processes.runChecked(Processes.asPostgresUser(stop), dataDir.getParent(), 45);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("could not stop PostgreSQL: " + e.getMessage());
        }
    }
}
