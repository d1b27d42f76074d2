package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Which password methods pgwarden answers when PostgreSQL asks: the role clearuser is asked for its password in
 * clear text (pg_hba.conf method {@code password}), md5user for md5.
 */
class ServerPasswordMethodsTest {

    private static final String CLEARUSER = """
            clearuser:
              password: %s
            """.formatted(TestPostgres.CLEARTEXT_PASSWORD);

    @Test
    void aServerAskingForACleartextPasswordOverPlainTextIsRefusedByDefault() {
        // The shared PostgreSQL has no TLS, so the default server.tls.mode prefer talks plain text.
        try (TestProxy proxy = TestProxy.start("", "", TestPostgres.shared().port(), CLEARUSER)) {
            assertThatThrownBy(() -> proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD).close())
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("over a connection without TLS and server.allow_cleartext_password is not"
                            + " set, which allows it only over TLS with a verified certificate (server.tls.mode"
                            + " verify-ca or verify-full, or require with server.tls.ca_file)");
        }
    }

    @Test
    void allowCleartextPasswordLetsTheLoginThrough() throws SQLException {
        try (TestProxy proxy = TestProxy.start("server:\n  allow_cleartext_password: true", "",
                TestPostgres.shared().port(), CLEARUSER);
             Connection c = proxy.connect("clearuser", TestPostgres.CLEARTEXT_PASSWORD)) {
            assertThat(currentUser(c)).isEqualTo("clearuser");
        }
    }

    @Test
    void md5IsAllowedByDefaultAndCanBeRefused() throws SQLException {
        try (TestProxy proxy = TestProxy.start("");
             Connection c = proxy.connect("md5user", TestPostgres.MD5_PASSWORD)) {
            assertThat(currentUser(c)).isEqualTo("md5user");
        }
        try (TestProxy proxy = TestProxy.start("server:\n  allow_md5_password: false")) {
            assertThatThrownBy(() -> proxy.connect("md5user", TestPostgres.MD5_PASSWORD).close())
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("server.allow_md5_password");
        }
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
