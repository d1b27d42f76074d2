package io.pgwarden.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Md5PasswordTest {

    private static final byte[] SALT = {1, 2, 3, (byte) 0xff};

    @Test
    void matchesAValueComputedIndependently() throws Exception {
        // Python: "md5" + md5(md5(b"pencil" + b"md5_user").hexdigest().encode() + bytes([1, 2, 3, 255])).hexdigest()
        assertThat(Md5Password.encode("md5_user", "pencil", SALT)).isEqualTo("md5635c43624cdd9216d1795b87d2ae3e29");

        // The same recipe spelled out with MessageDigest, as documented by PostgreSQL for AuthenticationMD5Password.
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        String inner = HexFormat.of().formatHex(md5.digest("pencilmd5_user".getBytes(UTF_8)));
        md5.update(inner.getBytes(UTF_8));
        md5.update(SALT);
        String expected = "md5" + HexFormat.of().formatHex(md5.digest());
        assertThat(Md5Password.encode("md5_user", "pencil", SALT)).isEqualTo(expected);
    }

    @Test
    void hasTheWellKnownShape() {
        assertThat(Md5Password.encode("alice", "s3cret", SALT)).matches("md5[0-9a-f]{32}");
    }

    @Test
    void storedHashMatchesPgAuthid() {
        // From pg_authid of PostgreSQL 15: CREATE ROLE md5_user PASSWORD 'pencil' with password_encryption = 'md5'.
        assertThat(Md5Password.storedHash("md5_user", "pencil")).isEqualTo("md529e3d0a0b4f3e9dd311543f9993a8476");
        assertThat(Md5Password.encodeWithStoredHash("md529e3d0a0b4f3e9dd311543f9993a8476", SALT))
                .isEqualTo(Md5Password.encode("md5_user", "pencil", SALT));
    }

    @Test
    void verifiesOnlyTheRightResponse() {
        String response = Md5Password.encode("alice", "s3cret", SALT);
        assertThat(Md5Password.verify("alice", "s3cret", SALT, response)).isTrue();
        assertThat(Md5Password.verify("alice", "wrong", SALT, response)).isFalse();
        assertThat(Md5Password.verify("bob", "s3cret", SALT, response)).isFalse();
        assertThat(Md5Password.verify("alice", "s3cret", new byte[] {1, 2, 3, 4}, response)).isFalse();
        assertThat(Md5Password.verify("alice", "s3cret", SALT, response.toUpperCase())).isFalse();
        assertThat(Md5Password.verify("alice", "s3cret", SALT, "")).isFalse();
        assertThat(Md5Password.verify("alice", "s3cret", SALT, null)).isFalse();
    }
}
