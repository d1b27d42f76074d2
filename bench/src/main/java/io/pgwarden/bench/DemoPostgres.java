package io.pgwarden.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The demo's embedded PostgreSQL 17 (zonky, binaries from Maven Central), on a data directory and port of its own
 * so that it can be stopped and started again: to pgwarden and to direct clients it is the same server going away
 * and coming back, as in a real restart. Role {@code app} (SCRAM over TCP) owns database {@code appdb}.
 */
final class DemoPostgres implements AutoCloseable {

    static final String USER = "app";
    static final String PASSWORD = "app";
    static final String DATABASE = "appdb";

    private final Path dir;
    private final int port;
    private EmbeddedPostgres running;

    private DemoPostgres(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    static DemoPostgres start() throws IOException, SQLException {
        Path dir = Files.createTempDirectory("pgwarden-demo");
        // Password logins over TCP, so the proxy exercises SCRAM the way it will against a real server.
        Files.writeString(dir.resolve("pg_hba.conf"), """
                local all all trust
                host all postgres 127.0.0.1/32 trust
                host all all 127.0.0.1/32 scram-sha-256
                """);
        DemoPostgres pg = new DemoPostgres(dir, Processes.freePort());
        try {
            pg.up();
            try (Connection c = pg.superuser(); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
                s.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
            }
        } catch (IOException | SQLException | RuntimeException e) {
            pg.close();
            throw e;
        }
        return pg;
    }

    int port() {
        return port;
    }

    String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    Connection superuser() throws SQLException {
        return DriverManager.getConnection(url("postgres"), "postgres", "");
    }

    /** Starts the server on its data directory (created the first time). */
    synchronized void up() throws IOException {
        running = EmbeddedPostgres.builder()
                .setDataDirectory(dir.resolve("data"))
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPort(port)
                .setServerConfig("hba_file", dir.resolve("pg_hba.conf").toString())
                .setServerConfig("listen_addresses", "127.0.0.1")
                .start();
    }

    /** A fast shutdown, as {@code pg_ctl restart} does: every session is terminated, the port closes. */
    synchronized void down() throws IOException {
        if (running != null) {
            running.close();
            running = null;
        }
    }

    @Override
    public synchronized void close() {
        try {
            down();
        } catch (IOException e) {
            System.err.println("could not stop the embedded PostgreSQL: " + e.getMessage());
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not remove " + dir + ": " + e.getMessage());
        }
    }
}
