package io.pgwarden.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A PostgreSQL of its own for tests that stop and restart it: same data directory, same port, so to pgwarden
 * it is the same server going away and coming back. Has the role {@code app} (SCRAM) and database
 * {@code appdb}, like {@link TestPostgres}.
 */
final class RestartablePostgres implements AutoCloseable {

    private final Path dataDirectory;
    private final Path hba;
    private final int port;
    private EmbeddedPostgres running;

    private RestartablePostgres(Path dataDirectory, Path hba, int port) {
        this.dataDirectory = dataDirectory;
        this.hba = hba;
        this.port = port;
    }

    static RestartablePostgres start() throws IOException, SQLException {
        Path dir = Files.createTempDirectory("pgwarden-restartable");
        Path hba = dir.resolve("pg_hba.conf");
        Files.writeString(hba, String.join("\n",
                "local all all trust",
                "host all postgres 127.0.0.1/32 trust",
                "host all all 127.0.0.1/32 scram-sha-256", ""));
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        RestartablePostgres pg = new RestartablePostgres(dir.resolve("data"), hba, port);
        pg.up();
        try (Connection c = DriverManager.getConnection(pg.url("postgres"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE ROLE app LOGIN PASSWORD '" + TestPostgres.APP_PASSWORD + "'");
            s.execute("CREATE DATABASE appdb OWNER app");
        }
        return pg;
    }

    int port() {
        return port;
    }

    String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Starts the server on its data directory (created the first time). */
    synchronized void up() throws IOException {
        running = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPort(port)
                .setServerConfig("hba_file", hba.toString())
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "200")
                .start();
    }

    /** A fast shutdown: sessions are terminated, the port closes. */
    synchronized void down() throws IOException {
        if (running != null) {
            running.close();
            running = null;
        }
    }

    @Override
    public void close() throws IOException {
        down();
        try (Stream<Path> files = Files.walk(dataDirectory.getParent())) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
