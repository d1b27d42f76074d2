package io.pgwarden.config;

/**
 * When pgwarden answers a server that asks for its password in clear text ({@code server.allow_cleartext_password}).
 * Left unset, the password goes only where nobody between can read it and the certificate proves who asks: a peer
 * on unverified TLS could be anyone, and a man in the middle asks for cleartext precisely to learn the password.
 */
public enum CleartextPasswordRule {
    /** {@code true}: sent to whatever answers at the address. */
    ALWAYS,
    /** {@code false}: never sent. */
    NEVER,
    /** Not set: sent only over TLS whose certificate was checked against a trusted CA. */
    OVER_VERIFIED_TLS;

    static CleartextPasswordRule of(boolean allowed) {
        return allowed ? ALWAYS : NEVER;
    }

    /** @param verifiedTls whether this connection is encrypted and the server's certificate chain was verified */
    public boolean allows(boolean verifiedTls) {
        return this == ALWAYS || (this == OVER_VERIFIED_TLS && verifiedTls);
    }
}
