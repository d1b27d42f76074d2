package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** users.<name>.password holding what pg_authid holds: a SCRAM verifier or an md5 hash. */
class StoredSecretsConfigTest {

    private static final String VERIFIER = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$"
            + "w0C8xS6u2C2xUR2DyC4s+kS7O8+E7ZQvUjmgJxNJJQ8=:yF0/5ptAwgIl1DVsi+6PsLLpXCjhYk7B7gw8BlKQ4F8=";
    private static final String MD5_HASH = "md5" + "0123456789abcdef0123456789abcdef";

    private final ConfigLoader loader = new ConfigLoader(Map.of());

    @Test
    void acceptsAVerifierAndAnMd5HashAndTellsThemFromPasswords() throws ConfigException {
        ProxyConfig config = parse(user("verified", VERIFIER, "") + user("hashed", MD5_HASH, "md5")
                + user("plain", "md5secret", ""));

        assertThat(config.user("verified").orElseThrow().secretKind()).isEqualTo(SecretKind.SCRAM_VERIFIER);
        assertThat(config.user("hashed").orElseThrow().secretKind()).isEqualTo(SecretKind.MD5_HASH);
        assertThat(config.user("plain").orElseThrow().secretKind()).isEqualTo(SecretKind.PLAINTEXT);
    }

    @Test
    void aVerifierNeedsNoQuotesNorIsItTakenForAnEnvironmentVariable() throws ConfigException {
        ProxyConfig config = loader.parse("databases:\n  appdb: {}\nusers:\n  verified:\n    password: " + VERIFIER
                + "\n", "test");
        assertThat(config.user("verified").orElseThrow().password()).isEqualTo(VERIFIER);
    }

    @Test
    void aMalformedVerifierNamesThePathAndNotTheSecret() {
        String broken = VERIFIER.replace(":yF0/", ":yF0*");
        assertThatThrownBy(() -> parse(user("alice", broken, "")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("users.alice.password")
                .hasMessageContaining("StoredKey or ServerKey that is not 32 bytes of base64")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("c2FsdHNhbHRzYWx0c2FsdA", "yF0"));
        assertThatThrownBy(() -> parse(user("alice", "SCRAM-SHA-256$x:c2FsdA==$a:b", "")))
                .hasMessageContaining("users.alice.password")
                .hasMessageContaining("iteration count that is not a number")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("c2FsdA=="));
        assertThatThrownBy(() -> parse(user("alice", "SCRAM-SHA-256$4096:c2FsdA==", "")))
                .hasMessageContaining("users.alice.password: is not a SCRAM-SHA-256 verifier");
    }

    @Test
    void aMalformedMd5HashNamesThePathAndNotTheSecret() {
        String upper = "md5" + "0123456789ABCDEF0123456789ABCDEF";
        assertThatThrownBy(() -> parse(user("bob", upper, "md5")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("users.bob.password")
                .hasMessageContaining("32 lowercase hex digits")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("ABCDEF"));
    }

    @Test
    void anMd5HashCannotServeScram() {
        assertThatThrownBy(() -> parse(user("bob", MD5_HASH, "")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("users.bob.password: is an md5 hash and auth is scram-sha-256 (the default): a"
                        + " client's SCRAM proof cannot be checked against an md5 hash")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("0123456789abcdef"));
        assertThatThrownBy(() -> parse(user("bob", MD5_HASH, "scram-sha-256")))
                .hasMessageContaining("users.bob.password: is an md5 hash");
    }

    private ProxyConfig parse(String users) throws ConfigException {
        return loader.parse("databases:\n  appdb: {}\nusers:\n" + users, "test");
    }

    private static String user(String name, String password, String auth) {
        return "  " + name + ":\n    password: '" + password + "'\n" + (auth.isEmpty() ? "" : "    auth: " + auth + "\n");
    }
}
