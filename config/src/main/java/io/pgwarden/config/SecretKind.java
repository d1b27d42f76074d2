package io.pgwarden.config;

import java.util.Base64;
import java.util.Optional;

/**
 * What {@code users.<name>.password} holds: the password itself, or one of the forms PostgreSQL stores in
 * pg_authid.rolpassword, which let pgwarden check a client (and log in by pass-through) without knowing the password.
 * The shapes are checked here, apart from the protocol module's parser, so that config stays free of it.
 */
public enum SecretKind {
    PLAINTEXT,
    /** {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}, base64 parts. */
    SCRAM_VERIFIER,
    /** {@code md5} + 32 lowercase hex digits: md5(password + user name). */
    MD5_HASH;

    private static final String SCRAM_PREFIX = "SCRAM-SHA-256$";
    private static final String MD5_PREFIX = "md5";
    private static final int MD5_LENGTH = 35;
    private static final int SCRAM_KEY_BYTES = 32;

    /**
     * As PostgreSQL tells them apart: its prefix makes a verifier; "md5" and 35 characters make an md5 hash (so a
     * password like "md5secret" stays a password). Malformed stored forms are classed by their prefix too.
     */
    public static SecretKind of(String secret) {
        if (secret.startsWith(SCRAM_PREFIX)) {
            return SCRAM_VERIFIER;
        }
        if (secret.length() == MD5_LENGTH && secret.startsWith(MD5_PREFIX)) {
            return MD5_HASH;
        }
        return PLAINTEXT;
    }

    /** Why {@code secret} cannot serve a user checked by {@code auth}; empty when it can. */
    public static Optional<String> problem(String secret, AuthMethod auth) {
        Optional<String> shape = problem(secret);
        if (shape.isPresent() || of(secret) != MD5_HASH || auth != AuthMethod.SCRAM_SHA_256) {
            return shape;
        }
        return Optional.of("is an md5 hash and auth is scram-sha-256 (the default): a client's SCRAM proof cannot"
                + " be checked against an md5 hash; set auth: md5, or store a SCRAM-SHA-256 verifier instead");
    }

    /** Why {@code secret} is not a usable stored form of its kind; empty when it is, or is a plain password. */
    public static Optional<String> problem(String secret) {
        return switch (of(secret)) {
            case PLAINTEXT -> Optional.empty();
            case MD5_HASH -> secret.substring(MD5_PREFIX.length()).chars()
                    .allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
                    ? Optional.empty()
                    : Optional.of("looks like an md5 hash (\"md5\" and 35 characters) but is not \"md5\" followed by"
                            + " 32 lowercase hex digits");
            case SCRAM_VERIFIER -> scramProblem(secret.substring(SCRAM_PREFIX.length()));
        };
    }

    // The messages describe the shape only: the text itself is a secret and must not reach an error.
    private static Optional<String> scramProblem(String rest) {
        String expected = "; expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> as in pg_authid";
        String[] halves = rest.split("\\$", -1);
        if (halves.length != 2) {
            return Optional.of("is not a SCRAM-SHA-256 verifier" + expected);
        }
        String[] iterationsAndSalt = halves[0].split(":", -1);
        String[] keys = halves[1].split(":", -1);
        if (iterationsAndSalt.length != 2 || keys.length != 2) {
            return Optional.of("is not a SCRAM-SHA-256 verifier" + expected);
        }
        try {
            if (Integer.parseInt(iterationsAndSalt[0]) < 1) {
                return Optional.of("has a SCRAM iteration count below 1" + expected);
            }
        } catch (NumberFormatException e) {
            return Optional.of("has a SCRAM iteration count that is not a number" + expected);
        }
        Optional<byte[]> salt = base64(iterationsAndSalt[1]);
        if (salt.isEmpty() || salt.get().length == 0) {
            return Optional.of("has a SCRAM salt that is not base64" + expected);
        }
        for (String key : keys) {
            Optional<byte[]> bytes = base64(key);
            if (bytes.isEmpty() || bytes.get().length != SCRAM_KEY_BYTES) {
                return Optional.of("has a StoredKey or ServerKey that is not " + SCRAM_KEY_BYTES
                        + " bytes of base64" + expected);
            }
        }
        return Optional.empty();
    }

    private static Optional<byte[]> base64(String text) {
        try {
            return Optional.of(Base64.getDecoder().decode(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
