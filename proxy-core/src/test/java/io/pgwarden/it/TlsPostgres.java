package io.pgwarden.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A PostgreSQL 17 of its own with {@code ssl=on} whose pg_hba.conf has only {@code hostssl} lines: a connection in
 * plain text is refused. Roles: {@code app} (SCRAM, password {@link TestPostgres#APP_PASSWORD}) and
 * {@code certuser} (client certificate, {@code cert} method); database {@code appdb}.
 */
final class TlsPostgres implements AutoCloseable {

    private final EmbeddedPostgres postgres;

    private TlsPostgres(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /**
     * @param serverCert the server's certificate file, its key beside it as ThrowawayCa writes them
     * @param clientCa the CA whose client certificates the cert method accepts
     */
    static TlsPostgres start(Path serverCert, Path serverKey, Path clientCa) {
        return start(serverCert, serverKey, clientCa, List.of());
    }

    /** @param firstHbaLines pg_hba.conf lines matched before the built-in ones, e.g. a role's own method */
    static TlsPostgres start(Path serverCert, Path serverKey, Path clientCa, List<String> firstHbaLines) {
        try {
            Path hba = Files.createTempFile(serverCert.getParent(), "hba", ".conf");
            List<String> lines = new ArrayList<>(firstHbaLines);
            lines.addAll(List.of(
                    "local all all trust",
                    "hostssl all postgres 127.0.0.1/32 trust",
                    "hostssl all postgres ::1/128 trust",
                    "hostssl all certuser 127.0.0.1/32 cert",
                    "hostssl all all 127.0.0.1/32 scram-sha-256", ""));
            Files.writeString(hba, String.join("\n", lines));
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setServerConfig("hba_file", hba.toString())
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("ssl", "on")
                    .setServerConfig("ssl_cert_file", serverCert.toString())
                    .setServerConfig("ssl_key_file", serverKey.toString())
                    .setServerConfig("ssl_ca_file", clientCa.toString())
                    .start();
            TlsPostgres pg = new TlsPostgres(postgres);
            try (Connection c = pg.superuser("postgres"); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE app LOGIN PASSWORD '" + TestPostgres.APP_PASSWORD + "'");
                s.execute("CREATE ROLE certuser LOGIN");
                s.execute("CREATE DATABASE appdb OWNER app");
                s.execute("GRANT ALL ON DATABASE appdb TO certuser");
            }
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    int port() {
        return postgres.getPort();
    }

    /** Over TLS, the certificate not checked: this is the test's own view of the server. */
    Connection superuser(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty("sslmode", "require");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database, props);
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
