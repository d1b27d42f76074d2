package io.pgwarden.session;

/**
 * Where a client connection is in its life, named after the protocol. The session changes it in one place,
 * {@link ClientSession#transition}, which also keeps the per-pool count of clients in each state.
 *
 * <pre>
 * STARTUP -> AUTHENTICATING -> LOGIN_WAITING -> IDLE <-> WAITING -> ACTIVE
 *                                                  ACTIVE -> IDLE | IN_TRANSACTION | FAILED_TRANSACTION
 *                 AUTHENTICATING -> REPLICATION (a replication connection, for good)
 *                                   (any state) -> CLOSED
 * </pre>
 * Whether the client holds a backend is its link's business: a session-mode client is IDLE with a backend.
 */
public enum ClientState {
    /** Before the StartupMessage: SSLRequest/GSSENCRequest negotiation. */
    STARTUP("login"),
    /** Password, MD5 or SASL exchange with the client. */
    AUTHENTICATING("login"),
    /** Authenticated; waiting for a backend (or its parameters) before ReadyForQuery can be sent. */
    LOGIN_WAITING("login"),
    /** Logged in, no transaction open, nothing asked. */
    IDLE("idle"),
    /** Has sent a request and waits for a backend to free up. */
    WAITING("waiting"),
    /** A request is in flight on its backend. */
    ACTIVE("active"),
    /** Between the statements of an open transaction. */
    IN_TRANSACTION("idle in transaction"),
    /** Between the statements of a transaction that has failed and awaits ROLLBACK. */
    FAILED_TRANSACTION("idle in transaction (aborted)"),
    /** A replication connection: its own backend, never pooled, and every byte relayed as is (no timeouts apply). */
    REPLICATION("replication"),
    CLOSED("closed");

    private final String label;

    ClientState(String label) {
        this.label = label;
    }

    /** The state as the admin console names it (PostgreSQL's pg_stat_activity words where they exist). */
    public String label() {
        return label;
    }

    /** True once the client has been sent ReadyForQuery for its login. */
    public boolean isLoggedIn() {
        return ordinal() >= IDLE.ordinal() && this != CLOSED;
    }

    /** True while the client waits for the pool: its query_wait_timeout runs. */
    public boolean isWaiting() {
        return this == WAITING || this == LOGIN_WAITING;
    }

    /** The state a quiet client settles in, by the transaction status its last ReadyForQuery reported. */
    static ClientState quietIn(TransactionStatus status) {
        return switch (status) {
            case IDLE -> IDLE;
            case IN_TRANSACTION -> IN_TRANSACTION;
            case FAILED_TRANSACTION -> FAILED_TRANSACTION;
        };
    }
}
