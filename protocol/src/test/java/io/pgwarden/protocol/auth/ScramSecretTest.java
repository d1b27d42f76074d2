package io.pgwarden.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ScramSecretTest {

    // From pg_authid of PostgreSQL 15 after CREATE ROLE ... PASSWORD with password_encryption = 'scram-sha-256'.
    private static final String PENCIL =
            "SCRAM-SHA-256$4096:eGqRYmYeBmbObRERHCebrQ==$z7xcl8BFdrZi9XMHMXoDclM3bl5efhK0MNn76HNtTe4="
                    + ":676lQ6rCPTw7omAZLezrZHiS2CzZuNOnKuKvthmtTgI=";
    // Password E'pen\u00a0cil': SASLprep maps the no-break space to a space.
    private static final String NO_BREAK_SPACE =
            "SCRAM-SHA-256$4096:ih46k+xVvNPb63QP87SgTA==$shhjOeuugHLuMHMxI9TbrzSfrKJuXhzD0+FTIAS6JCY="
                    + ":7sWs0p42zdvrndPBx7nso65XKlqrDBTC+8CZIfA/Sw4=";
    // Password E'pen\u0007cil': a prohibited control character, so PostgreSQL hashed the raw bytes.
    private static final String PROHIBITED =
            "SCRAM-SHA-256$4096:qDXyzfh2k01eREPPauEQWg==$Zq6VxHhU5QnrfJZanSdDBqr8TTDj6IGl4F713Ro3TC0="
                    + ":mzV41MlI6HtD6H7m4ox4Q/IYpI54vWo2KxqS3EmmBBA=";

    @Test
    void parsesARealPgAuthidSecretThatMatchesThePassword() {
        ScramSecret parsed = ScramSecret.parse(PENCIL);
        assertThat(parsed.iterations()).isEqualTo(4096);
        assertThat(parsed.salt()).hasSize(16);
        assertThat(ScramSecret.fromPassword("pencil", parsed.salt(), parsed.iterations())).isEqualTo(parsed);
        assertThat(parsed.toPgSecret()).isEqualTo(PENCIL);
    }

    @Test
    void preparesPasswordsWithSaslprepLikePostgresql() {
        ScramSecret parsed = ScramSecret.parse(NO_BREAK_SPACE);
        assertThat(ScramSecret.fromPassword("pen\u00a0cil", parsed.salt(), 4096)).isEqualTo(parsed);
        assertThat(ScramSecret.fromPassword("pen cil", parsed.salt(), 4096)).isEqualTo(parsed);
    }

    @Test
    void fallsBackToTheRawPasswordWhenSaslprepRejectsItLikePostgresql() {
        ScramSecret parsed = ScramSecret.parse(PROHIBITED);
        assertThat(ScramSecret.fromPassword("pen\u0007cil", parsed.salt(), 4096)).isEqualTo(parsed);
    }

    @Test
    void generatesRandomSaltsWithPostgresqlDefaults() {
        ScramSecret first = ScramSecret.generate("pencil");
        ScramSecret second = ScramSecret.generate("pencil");
        assertThat(first.salt()).hasSize(16);
        assertThat(first.iterations()).isEqualTo(4096);
        assertThat(first).isNotEqualTo(second);
        assertThat(ScramSecret.parse(first.toPgSecret())).isEqualTo(first);
    }

    @Test
    void rejectsMalformedSecrets() {
        for (String text : new String[] {
            "", "md5abc", "SCRAM-SHA-256$4096:c2FsdA==", "SCRAM-SHA-256$x:c2FsdA==$a:b",
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA", "SCRAM-SHA-256$4096:***$" + "A".repeat(43) + "=:" + "A".repeat(43) + "=",
            "SCRAM-SHA-256$0:c2FsdA==$" + "A".repeat(43) + "=:" + "A".repeat(43) + "="}) {
            assertThatThrownBy(() -> ScramSecret.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void neverPrintsItsKeys() {
        assertThat(ScramSecret.parse(PENCIL).toString()).doesNotContain("z7xcl8", "676lQ6", "eGqRYm");
    }

    @Test
    void protectsItsArraysFromCallers() {
        ScramSecret secret = ScramSecret.parse(PENCIL);
        secret.storedKey()[0] ^= 1;
        secret.salt()[0] ^= 1;
        assertThat(secret.toPgSecret()).isEqualTo(PENCIL);
    }
}
