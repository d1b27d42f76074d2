package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * server.allow_cleartext_password left unset: PostgreSQL (ssl=on) asks clearuser for its password in clear text
 * (pg_hba.conf {@code host ... password}, so over TLS and plain text alike), and pgwarden sends it only over TLS
 * whose certificate it verified; an explicit true or false decides regardless of TLS.
 */
class CleartextPasswordOverTlsTest {

    private static final String CLEARUSER = """
            clearuser:
              password: %s
            """.formatted(TestPostgres.CLEARTEXT_PASSWORD);

    private static Path dir;
    private static Path caFile;
    private static TlsPostgres pg;

    @BeforeAll
    static void startPostgres() throws IOException, SQLException {
        dir = Files.createTempDirectory("pgwarden-cleartext-tls");
        ThrowawayCa ca = ThrowawayCa.create("pgwarden test CA");
        caFile = ca.writeCertificate(dir.resolve("ca.crt"));
        Path serverCert = ca.server("postgres", List.of("localhost"), List.of("127.0.0.1")).write(dir, "server");
        pg = TlsPostgres.start(serverCert, dir.resolve("server.key"), caFile,
                List.of("host all clearuser 127.0.0.1/32 password"));
        try (Connection c = pg.superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE clearuser LOGIN PASSWORD '" + TestPostgres.CLEARTEXT_PASSWORD + "'");
            s.execute("GRANT ALL ON DATABASE appdb TO clearuser");
        }
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (pg != null) {
            pg.close();
        }
        if (dir != null) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static TestProxy proxy(String server) {
        return TestProxy.start("server:\n" + server.indent(2).stripTrailing(), "", pg.port(), CLEARUSER);
    }

    @Test
    void unsetSendsThePasswordOverVerifyFullTls() throws SQLException {
        try (TestProxy proxy = proxy("tls: {mode: verify-full, ca_file: " + caFile + "}");
             Connection c = proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD)) {
            assertThat(queryOne(c, "SELECT current_user || ' ' || ssl::text FROM pg_stat_ssl"
                    + " WHERE pid = pg_backend_pid()")).isEqualTo("clearuser true");
        }
    }

    @Test
    void unsetSendsThePasswordOverRequireWithACaFileAsLibpqTreatsItAsVerifyCa() throws SQLException {
        try (TestProxy proxy = proxy("tls: {mode: require, ca_file: " + caFile + "}");
             Connection c = proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD)) {
            assertThat(queryOne(c, "SELECT current_user")).isEqualTo("clearuser");
        }
    }

    @Test
    void unsetRefusesOverTlsWhoseCertificateWasNotVerified() {
        try (TestProxy proxy = proxy("tls: {mode: require}")) {
            assertThatThrownBy(() -> proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage())
                                .contains("the server asks for a cleartext password over TLS whose certificate was"
                                        + " not verified and server.allow_cleartext_password is not set")
                                .contains("server.tls.mode verify-ca or verify-full")
                                .contains("server.tls.ca_file")
                                .doesNotContain(TestPostgres.CLEARTEXT_PASSWORD);
                    });
        }
    }

    @Test
    void unsetRefusesOverPlainText() {
        try (TestProxy proxy = proxy("tls: {mode: disable}")) {
            assertThatThrownBy(() -> proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("over a connection without TLS and server.allow_cleartext_password is not set")
                            .contains("server.tls.mode verify-ca or verify-full"));
        }
    }

    @Test
    void explicitFalseRefusesEvenOverVerifyFullTls() {
        try (TestProxy proxy = proxy("allow_cleartext_password: false\ntls: {mode: verify-full, ca_file: "
                + caFile + "}")) {
            assertThatThrownBy(() -> proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("the server asks for a cleartext password and"
                                    + " server.allow_cleartext_password is false"));
        }
    }

    @Test
    void explicitTrueSendsItOverPlainText() throws SQLException {
        try (TestProxy proxy = proxy("allow_cleartext_password: true\ntls: {mode: disable}");
             Connection c = proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD)) {
            assertThat(queryOne(c, "SELECT current_user || ' ' || ssl::text FROM pg_stat_ssl"
                    + " WHERE pid = pg_backend_pid()")).isEqualTo("clearuser false");
        }
    }

    private static String queryOne(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from " + sql).isTrue();
            return rs.getString(1);
        }
    }
}
