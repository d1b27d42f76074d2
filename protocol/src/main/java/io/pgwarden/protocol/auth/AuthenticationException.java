package io.pgwarden.protocol.auth;

/** A failed or malformed authentication exchange. Messages never contain passwords, proofs or keys. */
public final class AuthenticationException extends Exception {

    private static final long serialVersionUID = 1L;

    public AuthenticationException(String message) {
        super(message);
    }
}
