package io.pgwarden.frontend;

import io.pgwarden.config.UserConfig;
import io.pgwarden.protocol.auth.PassThroughKeys;
import io.pgwarden.protocol.auth.ScramSecret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * SCRAM secrets of the configured users, derived once (4096 PBKDF2 rounds each) rather than per login.
 * Unknown users get a made-up secret with a salt derived from their name, so the exchange looks
 * the same as for a real user and the answer is the same 28P01: nobody learns which users exist.
 */
public final class Credentials {

    private static final int ITERATIONS = 4096;

    private final ConcurrentMap<String, ScramSecret> secrets = new ConcurrentHashMap<>();
    private final byte[] mockSeed = new byte[32];
    private final PassThroughKeys passThroughKeys;

    /** With keys of its own, for tests that log in to no PostgreSQL by pass-through. */
    public Credentials() {
        this(new PassThroughKeys());
    }

    /** @param passThroughKeys where the ClientKeys of clients checked against stored verifiers go; shared with the
     *     backend logins, which answer PostgreSQL with them */
    public Credentials(PassThroughKeys passThroughKeys) {
        this.passThroughKeys = passThroughKeys;
        new SecureRandom().nextBytes(mockSeed);
    }

    /**
     * The user's SCRAM secret: derived from a password, parsed from a stored verifier, and for an md5 hash (from
     * which no SCRAM secret follows) a mock one, so that the exchange fails as PostgreSQL's does.
     */
    public ScramSecret scramSecret(UserConfig user) {
        return secrets.computeIfAbsent(user.name() + "\0" + user.password(), k -> switch (user.secretKind()) {
            case PLAINTEXT -> ScramSecret.fromPassword(user.password(), randomSalt(), ITERATIONS);
            case SCRAM_VERIFIER -> parsedOrMock(user);
            case MD5_HASH -> mockSecret(user.name());
        });
    }

    // YAML verifiers were checked when the file was read; one from elsewhere (a lookup) may be broken, and then
    // nothing matches it, as in PostgreSQL.
    private ScramSecret parsedOrMock(UserConfig user) {
        try {
            return ScramSecret.parse(user.password());
        } catch (IllegalArgumentException malformed) {
            return mockSecret(user.name());
        }
    }

    public PassThroughKeys passThroughKeys() {
        return passThroughKeys;
    }

    /** A secret no password matches, stable per user name. */
    public ScramSecret mockSecret(String userName) {
        byte[] salt = Arrays.copyOf(sha256(mockSeed, userName.getBytes(StandardCharsets.UTF_8)), 16);
        byte[] unmatchable = sha256(salt, mockSeed);
        return new ScramSecret(salt, ITERATIONS, unmatchable, unmatchable);
    }

    private static byte[] randomSalt() {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return salt;
    }

    private static byte[] sha256(byte[] a, byte[] b) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(a);
            digest.update(b);
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
