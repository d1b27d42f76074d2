package io.pgwarden.session;

import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.StartupMessage;

/** Builds what an operator sees of one client, from any thread (a best-effort snapshot). */
final class ClientViews {

    private ClientViews() {
    }

    static ClientView of(ClientSession s) {
        long now = System.nanoTime();
        SessionTimes t = s.times;
        BackendConnection b = s.linkedBackend();
        StartupMessage startup = s.startup;
        ClientState state = s.state();
        long txStart = t.transactionStart;
        long statementAt = t.requestStart;
        return new ClientView(s.id(), startup != null ? startup.user() : null,
                startup != null ? startup.database() : null, s.applicationName, s.remote(), state.label(),
                millis(now - t.connectedAt), millis(now - Math.max(t.stateSince, t.lastActivity)),
                txStart == 0 || s.transactionStatus == TransactionStatus.IDLE ? -1 : millis(now - txStart),
                state == ClientState.WAITING ? millis(now - t.waitStart) : -1,
                s.notes.transactionStart(), s.notes.last(), statementAt == 0 ? -1 : millis(now - statementAt),
                b != null ? b.processId() : 0, s.lastBackendLoss);
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }
}
