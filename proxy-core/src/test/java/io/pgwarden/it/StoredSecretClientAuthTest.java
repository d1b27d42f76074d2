package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.protocol.auth.Md5Password;
import io.pgwarden.protocol.auth.ScramSecret;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Clients checked against a stored secret (a SCRAM verifier or an md5 hash in users.<name>.password) instead of a
 * password. The role is trustuser, whom PostgreSQL lets in without a password: only the client side is at stake.
 */
class StoredSecretClientAuthTest {

    private static final String PASSWORD = "h16a-client-secret";

    @Test
    void aVerifierChecksScramClientsAndWrongPasswordsGetTodaysAnswer() throws SQLException {
        String verifier = ScramSecret.generate(PASSWORD).toPgSecret();
        for (String auth : new String[] {"scram-sha-256", "md5", "cleartext"}) {
            // With md5 configured, PostgreSQL's rule: a SCRAM secret is checked by SCRAM.
            try (TestProxy proxy = proxyWith(verifier, auth)) {
                try (Connection c = proxy.connect("trustuser", PASSWORD)) {
                    assertThat(currentUser(c)).as(auth).isEqualTo("trustuser");
                }
                assertWrongPasswordRefused(proxy);
            }
        }
    }

    @Test
    void anMd5HashChecksMd5AndCleartextClients() throws SQLException {
        String hash = Md5Password.storedHash("trustuser", PASSWORD);
        for (String auth : new String[] {"md5", "cleartext"}) {
            try (TestProxy proxy = proxyWith(hash, auth)) {
                try (Connection c = proxy.connect("trustuser", PASSWORD)) {
                    assertThat(currentUser(c)).as(auth).isEqualTo("trustuser");
                }
                assertWrongPasswordRefused(proxy);
            }
        }
    }

    private static void assertWrongPasswordRefused(TestProxy proxy) {
        assertThatThrownBy(() -> proxy.connect("trustuser", "not-" + PASSWORD).close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).contains("password authentication failed for user \"trustuser\"");
                });
    }

    private static TestProxy proxyWith(String secret, String auth) {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  trustuser:
                    password: '%s'
                    auth: %s
                """.formatted(secret, auth);
        return TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port());
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
