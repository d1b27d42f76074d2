package io.pgwarden.session;

import io.pgwarden.protocol.ErrorResponse;

/**
 * A client message refused after login (an unknown type, an unreadable Parse). PostgreSQL answers what came
 * before it in order and only then ends the connection; ending it at once would leave a request in flight and cost
 * the backend, which in a pool belongs to other clients too. So the FATAL waits until the backend has answered,
 * while nothing more is read from the client.
 */
final class Refusal {

    private final ClientSession s;
    private ErrorResponse error;

    Refusal(ClientSession s) {
        this.s = s;
    }

    boolean isPending() {
        return error != null;
    }

    void refuse(ErrorResponse why) {
        if (error != null || s.state() == ClientState.CLOSED) {
            return;
        }
        error = why;
        s.gate.pause(ReadGate.Reason.REFUSED);
        if (s.link.isBound() && s.link.pending().extendedBatchOpen()) {
            // PostgreSQL would skip to the client's Sync after its ERROR; that Sync will never be read now, so
            // pgwarden sends its own, and what the batch owes the client still reaches it before the FATAL.
            s.link.sendHiddenSync(null, null);
        }
        tryNow();
    }

    /** On every state change: a client gone quiet gets its FATAL, after whatever else this loop turn does. */
    void onTransition(ClientState next) {
        if (error != null && next.isLoggedIn() && next != ClientState.ACTIVE && !next.isWaiting()) {
            s.eventLoop().execute(this::tryNow);
        }
    }

    private void tryNow() {
        if (s.state() == ClientState.CLOSED || (s.link.isBound() && !s.link.pending().isQuiet())) {
            return;
        }
        s.fatal(error, ClientCloseReason.PROTOCOL_VIOLATION);
    }
}
