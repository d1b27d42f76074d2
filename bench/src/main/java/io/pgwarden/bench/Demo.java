package io.pgwarden.bench;

import io.pgwarden.ProxyApplication;
import io.pgwarden.StartupChecks;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Try pgwarden on a machine with only a JDK: starts an embedded PostgreSQL 17 (binaries from Maven Central),
 * pgwarden in front of it on port 6432, prints how to connect, and runs until Ctrl-C.
 * Kept out of the production jar so that jar carries no PostgreSQL binaries.
 */
public final class Demo {

    private static final String USER = "app";
    private static final String PASSWORD = "app";
    private static final String DATABASE = "appdb";

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        int proxyPort = Integer.parseInt(System.getenv().getOrDefault("PGWARDEN_DEMO_PORT", "6432"));
        String poolMode = System.getenv().getOrDefault("PGWARDEN_DEMO_POOL_MODE", "transaction");
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setServerConfig("hba_file", writeHba().toString())
                .setServerConfig("listen_addresses", "127.0.0.1")
                .start();
        try (Connection c = DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres", "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            s.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
        }
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: %d
                defaults:
                  pool_mode: %s
                  max_size: 20
                databases:
                  %s:
                    host: 127.0.0.1
                    port: %d
                users:
                  %s:
                    password: ${DEMO_PASSWORD}
                """.formatted(proxyPort, poolMode, DATABASE, postgres.getPort(), USER);
        LoadedConfig config = new ConfigLoader(Map.of("DEMO_PASSWORD", PASSWORD)).read(yaml, "demo config");
        ProxyApplication proxy = ProxyApplication.start(config.config());
        // The same warnings as a real start (a heap left unbounded, above all); the config is in no file.
        new StartupChecks(StartupChecks.Process.current()).run(config, null, proxy.address(), false, null);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            try {
                postgres.close();
            } catch (IOException e) {
                System.err.println("could not stop the embedded PostgreSQL: " + e.getMessage());
            }
            stopped.countDown();
        }, "demo-shutdown"));

        int port = proxy.address().getPort();
        System.out.printf("""

                pgwarden %s is running (%s mode) in front of an embedded PostgreSQL on port %d.
                Generated configuration:
                %s
                Connect through pgwarden:
                  psql "postgresql://%s:%s@127.0.0.1:%d/%s"
                  jdbc:postgresql://127.0.0.1:%d/%s?user=%s&password=%s
                  pgbench -h 127.0.0.1 -p %d -U %s -i %s   (PGPASSWORD=%s)
                Press Ctrl-C to stop.
                %n""", io.pgwarden.admin.ProxyVersion.get(), poolMode, postgres.getPort(), yaml.indent(2), USER, PASSWORD,
                port, DATABASE, port, DATABASE, USER, PASSWORD, port, USER, DATABASE, PASSWORD);
        stopped.await();
    }

    /** Password logins over TCP, so the proxy exercises SCRAM the way it will against a real server. */
    private static Path writeHba() throws IOException {
        Path hba = Files.createTempFile("pgwarden-demo-hba", ".conf");
        hba.toFile().deleteOnExit();
        Files.writeString(hba, """
                local all all trust
                host all postgres 127.0.0.1/32 trust
                host all all 127.0.0.1/32 scram-sha-256
                """);
        return hba;
    }
}
