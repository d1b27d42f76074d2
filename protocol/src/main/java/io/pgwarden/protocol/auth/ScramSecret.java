package io.pgwarden.protocol.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * What a SCRAM-SHA-256 server has to know about a password: enough to verify a client, not enough to log in as it.
 * Arrays are copied in and out so an instance can be shared between concurrent logins.
 */
public record ScramSecret(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {

    public static final int DEFAULT_ITERATIONS = 4096;
    public static final int DEFAULT_SALT_LENGTH = 16;

    private static final String PREFIX = "SCRAM-SHA-256$";
    private static final int KEY_LENGTH = 32;

    public ScramSecret {
        if (salt.length == 0) {
            throw new IllegalArgumentException("empty salt");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be positive");
        }
        if (storedKey.length != KEY_LENGTH || serverKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 keys must be " + KEY_LENGTH + " bytes");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    /**
     * Derives the secret the way PostgreSQL does: the password is SASLprepped, and used as-is when it cannot be
     * normalized (so that such passwords still work, as they do with PostgreSQL).
     */
    public static ScramSecret fromPassword(String password, byte[] salt, int iterations) {
        if (password.isEmpty()) {
            // PostgreSQL refuses empty passwords too; PBKDF2 would otherwise need an empty HMAC key.
            throw new IllegalArgumentException("empty password");
        }
        byte[] saltedPassword = ScramFunctions.saltedPassword(ScramMechanism.SCRAM_SHA_256,
                StringPreparation.POSTGRESQL_PREPARATION, password.toCharArray(), salt, iterations);
        byte[] clientKey = ScramFunctions.clientKey(ScramMechanism.SCRAM_SHA_256, saltedPassword);
        byte[] storedKey = ScramFunctions.storedKey(ScramMechanism.SCRAM_SHA_256, clientKey);
        byte[] serverKey = ScramFunctions.serverKey(ScramMechanism.SCRAM_SHA_256, saltedPassword);
        return new ScramSecret(salt, iterations, storedKey, serverKey);
    }

    /**
     * The ClientKey of {@code password} under this secret's salt and iterations, if the password matches it: what a
     * cleartext login against a stored verifier yields for pass-through.
     */
    public Optional<byte[]> clientKeyOf(String password) {
        if (password.isEmpty()) {
            return Optional.empty();
        }
        byte[] saltedPassword = ScramFunctions.saltedPassword(ScramMechanism.SCRAM_SHA_256,
                StringPreparation.POSTGRESQL_PREPARATION, password.toCharArray(), salt, iterations);
        byte[] clientKey = ScramFunctions.clientKey(ScramMechanism.SCRAM_SHA_256, saltedPassword);
        boolean matches = MessageDigest.isEqual(ScramFunctions.storedKey(ScramMechanism.SCRAM_SHA_256, clientKey),
                storedKey) & MessageDigest.isEqual(ScramFunctions.serverKey(ScramMechanism.SCRAM_SHA_256,
                saltedPassword), serverKey);
        return matches ? Optional.of(clientKey) : Optional.empty();
    }

    /** A fresh secret with a random 16-byte salt and 4096 iterations, PostgreSQL's defaults. */
    public static ScramSecret generate(String password) {
        byte[] salt = new byte[DEFAULT_SALT_LENGTH];
        new SecureRandom().nextBytes(salt);
        return fromPassword(password, salt, DEFAULT_ITERATIONS);
    }

    /**
     * Parses the pg_authid format {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} (base64 parts).
     *
     * @throws IllegalArgumentException if the text is not in that format
     */
    public static ScramSecret parse(String pgSecret) {
        if (!pgSecret.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a SCRAM-SHA-256 secret");
        }
        String[] halves = pgSecret.substring(PREFIX.length()).split("\\$", -1);
        if (halves.length != 2) {
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 secret");
        }
        String[] iterationsAndSalt = halves[0].split(":", -1);
        String[] keys = halves[1].split(":", -1);
        if (iterationsAndSalt.length != 2 || keys.length != 2) {
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 secret");
        }
        try {
            Base64.Decoder base64 = Base64.getDecoder();
            return new ScramSecret(base64.decode(iterationsAndSalt[1]), Integer.parseInt(iterationsAndSalt[0]),
                    base64.decode(keys[0]), base64.decode(keys[1]));
        } catch (IllegalArgumentException malformed) {
            // Not chained: the cause's message could quote parts of the secret.
            throw new IllegalArgumentException("malformed SCRAM-SHA-256 secret");
        }
    }

    /** The pg_authid text form, as accepted by {@link #parse} and by ALTER ROLE ... PASSWORD. */
    public String toPgSecret() {
        Base64.Encoder base64 = Base64.getEncoder();
        return PREFIX + iterations + ":" + base64.encodeToString(salt) + "$" + base64.encodeToString(storedKey) + ":"
                + base64.encodeToString(serverKey);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ScramSecret that && iterations == that.iterations && Arrays.equals(salt, that.salt)
                && MessageDigest.isEqual(storedKey, that.storedKey) && MessageDigest.isEqual(serverKey, that.serverKey);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(salt) + iterations;
    }

    // Keys let anyone impersonate the server or, with a captured exchange, the client: never print them.
    @Override
    public String toString() {
        return "ScramSecret[iterations=" + iterations + "]";
    }
}
