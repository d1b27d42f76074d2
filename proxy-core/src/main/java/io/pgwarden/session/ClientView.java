package io.pgwarden.session;

/**
 * What an operator sees of one client (SHOW CLIENTS, SHOW LEAKS). Read from another thread, so it is a
 * best-effort snapshot; ages are in milliseconds, -1 when not applicable.
 */
public record ClientView(long id, String user, String database, String applicationName, String address,
                         String state, long connectedMillis, long stateAgeMillis, long transactionAgeMillis,
                         long waitMillis, String transactionStartStatement, String lastStatement,
                         long lastStatementAgeMillis, int backendPid, String lastBackendLoss) {
}
