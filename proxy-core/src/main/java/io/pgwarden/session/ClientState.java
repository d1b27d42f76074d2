package io.pgwarden.session;

/** Where a client connection is in its life; transitions happen only in {@link ClientSession}. */
public enum ClientState {
    /** Before the StartupMessage: SSLRequest/GSSENCRequest negotiation. */
    STARTUP,
    /** Password, MD5 or SASL exchange with the client. */
    AUTHENTICATING,
    /** Authenticated; waiting for a backend (or its parameters) before ReadyForQuery can be sent. */
    LOGIN_WAITING,
    /** Logged in with no backend held: transaction mode between transactions. */
    IDLE,
    /** Has sent a request and waits for a backend to free up. */
    WAITING,
    /** A backend serves this client: for the whole session, or for the current transaction. */
    LINKED,
    CLOSED;

    /** True once the client has been sent ReadyForQuery for its login. */
    public boolean isLoggedIn() {
        return this == IDLE || this == WAITING || this == LINKED;
    }
}
