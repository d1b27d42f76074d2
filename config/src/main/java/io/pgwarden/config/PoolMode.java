package io.pgwarden.config;

/** How long a client keeps a server connection: for its whole session, or only per transaction. */
public enum PoolMode {
    SESSION,
    TRANSACTION
}
