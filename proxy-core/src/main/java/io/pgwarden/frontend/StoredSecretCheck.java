package io.pgwarden.frontend;

import io.pgwarden.config.AuthMethod;
import io.pgwarden.config.UserConfig;
import io.pgwarden.protocol.auth.Md5Password;
import io.pgwarden.protocol.auth.ScramSecret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/** How a client is checked against a stored secret (SCRAM verifier or md5 hash) rather than a password. */
final class StoredSecretCheck {

    private StoredSecretCheck() {
    }

    /**
     * PostgreSQL's rule: md5 with a SCRAM verifier stored means SCRAM, which is stronger and the only exchange
     * a verifier can check (an md5 hash cannot be derived from it).
     */
    static AuthMethod method(UserConfig user, AuthMethod configured) {
        return configured == AuthMethod.MD5 && user.secretKind() == io.pgwarden.config.SecretKind.SCRAM_VERIFIER
                ? AuthMethod.SCRAM_SHA_256 : configured;
    }

    /**
     * A cleartext password against a stored secret, as PostgreSQL checks it; a matching password against a verifier
     * also yields the ClientKey, kept for pass-through like one recovered from a SCRAM proof.
     */
    static boolean cleartext(UserConfig user, Credentials credentials, String given) {
        return switch (user.secretKind()) {
            case MD5_HASH -> MessageDigest.isEqual(user.password().getBytes(StandardCharsets.US_ASCII),
                    Md5Password.storedHash(user.name(), given).getBytes(StandardCharsets.UTF_8));
            case SCRAM_VERIFIER -> {
                ScramSecret verifier = credentials.scramSecret(user);
                Optional<byte[]> clientKey = verifier.clientKeyOf(given);
                clientKey.ifPresent(key -> credentials.passThroughKeys().remember(user.name(), key));
                yield clientKey.isPresent();
            }
            case PLAINTEXT -> throw new IllegalArgumentException("not a stored secret");
        };
    }
}
