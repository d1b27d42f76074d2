package io.pgwarden.backend;

import io.pgwarden.config.SecretKind;
import io.pgwarden.protocol.auth.AuthenticationException;
import io.pgwarden.protocol.auth.Md5Password;
import io.pgwarden.protocol.auth.PassThroughKeys;
import io.pgwarden.protocol.auth.ScramClientLogin;
import io.pgwarden.protocol.auth.ScramSecret;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * Answers PostgreSQL's password requests from what pgwarden holds for a role: the password itself, a stored md5
 * hash (md5 only), or a SCRAM verifier (SCRAM only, by pass-through with a ClientKey a client's login left behind).
 * A request the secret cannot answer fails with the reason, never with the secret.
 */
final class BackendSecret {

    private final String user;
    /** Null when none is configured (a trust login needs none). */
    private final String secret;
    private final SecretKind kind;
    private final PassThroughKeys keys;

    BackendSecret(String user, String secret, PassThroughKeys keys) {
        this.user = user;
        this.secret = secret;
        this.kind = secret == null ? SecretKind.PLAINTEXT : SecretKind.of(secret);
        this.keys = keys;
    }

    /** Whether a failure is worth a log line of its own: a stored secret's reason is the operator's to fix. */
    boolean isStored() {
        return kind != SecretKind.PLAINTEXT;
    }

    String cleartext() throws AuthenticationException {
        refuseStored("a cleartext password");
        return password();
    }

    String md5Response(byte[] salt) throws AuthenticationException {
        if (kind == SecretKind.MD5_HASH) {
            return Md5Password.encodeWithStoredHash(secret, salt);
        }
        refuseStored("an md5 password");
        return Md5Password.encode(user, password(), salt);
    }

    ScramClientLogin scram(List<String> mechanisms, X509Certificate serverCertificate)
            throws AuthenticationException {
        if (kind == SecretKind.MD5_HASH) {
            throw new AuthenticationException("the server asks for SCRAM, which the md5 hash in " + source()
                    + " cannot answer; store the role's SCRAM verifier (or its password) there instead");
        }
        if (kind == SecretKind.PLAINTEXT) {
            return new ScramClientLogin(user, password(), mechanisms, serverCertificate);
        }
        ScramSecret verifier = ScramSecret.parse(secret);
        Optional<byte[]> clientKey = keys.clientKey(user, verifier);
        if (clientKey.isEmpty()) {
            throw new AuthenticationException(noKeyYet());
        }
        return ScramClientLogin.passThrough(verifier, clientKey.get(), source(), mechanisms, serverCertificate);
    }

    /** Whether a login may start before any client asked for it (min_size): not by pass-through without a key. */
    boolean canLogInUnasked() {
        return kind != SecretKind.SCRAM_VERIFIER || keys.clientKey(user, ScramSecret.parse(secret)).isPresent();
    }

    String noKeyYet() {
        return "SCRAM pass-through for \"" + user + "\" has no client key yet: " + source() + " is a SCRAM verifier,"
                + " and pgwarden can log in with it only after a client of that user has logged in";
    }

    private void refuseStored(String what) throws AuthenticationException {
        if (kind == SecretKind.SCRAM_VERIFIER) {
            throw new AuthenticationException("the server asks for " + what + ", which the SCRAM verifier in "
                    + source() + " cannot answer: SCRAM pass-through needs PostgreSQL to ask for SCRAM"
                    + " (scram-sha-256 in pg_hba.conf, or md5 there with the role's password stored as SCRAM)");
        }
        if (kind == SecretKind.MD5_HASH) {
            throw new AuthenticationException("the server asks for " + what + ", which the md5 hash in " + source()
                    + " cannot answer; only an md5 request can be answered from it");
        }
    }

    private String password() throws AuthenticationException {
        if (secret == null) {
            throw new AuthenticationException("the server asks for a password and none is configured");
        }
        return secret;
    }

    /** A looked-up user has no YAML entry: the secret is auth.query's answer, refreshed within auth.cache_ttl. */
    private String source() {
        return "the secret stored for " + user + " (users." + user + ".password, or auth.query's answer)";
    }
}
