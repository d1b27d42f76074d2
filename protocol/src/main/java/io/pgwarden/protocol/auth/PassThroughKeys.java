package io.pgwarden.protocol.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The SCRAM ClientKeys recovered from clients' proofs, by user name, for logging in to PostgreSQL by pass-through
 * when pgwarden holds only a verifier. A key is handed out only for a verifier it matches (H(ClientKey) = StoredKey),
 * so after the verifier changes (RELOAD, a new lookup) an old key is never tried. One per proxy; thread-safe.
 * Kept in memory only, for the life of the process: nothing else could log in again after a lost backend.
 */
public final class PassThroughKeys {

    private final ConcurrentMap<String, byte[]> clientKeys = new ConcurrentHashMap<>();

    /** {@code clientKey} must already be known to match {@code secret}, as a verified proof or password makes it. */
    public void remember(String user, byte[] clientKey) {
        clientKeys.put(user, clientKey.clone());
    }

    /** The kept ClientKey of {@code user} that matches {@code secret}, if a client of that user has logged in. */
    public Optional<byte[]> clientKey(String user, ScramSecret secret) {
        byte[] key = clientKeys.get(user);
        if (key == null || !MessageDigest.isEqual(ScramFunctions.hash(ScramMechanism.SCRAM_SHA_256, key),
                secret.storedKey())) {
            return Optional.empty();
        }
        return Optional.of(key.clone());
    }
}
