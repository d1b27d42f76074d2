package io.pgwarden.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** PostgreSQL's legacy MD5 challenge-response: "md5" + md5hex(md5hex(password + user) + salt). */
public final class Md5Password {

    private static final String PREFIX = "md5";

    private Md5Password() {
    }

    /** The response a client sends to AuthenticationMD5Password. */
    public static String encode(String user, String password, byte[] salt4) {
        return encodeWithStoredHash(storedHash(user, password), salt4);
    }

    /**
     * The response computed from a pg_authid-style MD5 secret ("md5" + md5hex(password + user)) instead of the
     * password, which is all a server, or a proxy configured with such secrets, knows.
     */
    public static String encodeWithStoredHash(String storedHash, byte[] salt4) {
        if (salt4.length != 4) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes, got " + salt4.length);
        }
        if (!storedHash.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not an MD5 secret");
        }
        byte[] inner = storedHash.substring(PREFIX.length()).getBytes(StandardCharsets.US_ASCII);
        byte[] salted = new byte[inner.length + 4];
        System.arraycopy(inner, 0, salted, 0, inner.length);
        System.arraycopy(salt4, 0, salted, inner.length, 4);
        return PREFIX + md5Hex(salted);
    }

    /** The pg_authid form of an MD5 password. */
    public static String storedHash(String user, String password) {
        return PREFIX + md5Hex((password + user).getBytes(StandardCharsets.UTF_8));
    }

    /** Constant-time, so response timing reveals nothing about how much of it was right. */
    public static boolean verify(String user, String password, byte[] salt4, String clientResponse) {
        return verifyWithStoredHash(storedHash(user, password), salt4, clientResponse);
    }

    public static boolean verifyWithStoredHash(String storedHash, byte[] salt4, String clientResponse) {
        if (clientResponse == null) {
            return false;
        }
        byte[] expected = encodeWithStoredHash(storedHash, salt4).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, clientResponse.getBytes(StandardCharsets.UTF_8));
    }

    private static String md5Hex(byte[] input) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(input));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every Java platform", e);
        }
    }
}
